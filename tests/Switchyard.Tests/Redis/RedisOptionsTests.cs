using Switchyard.Core.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>REDIS_URL parsing: redis:// and rediss://, percent-decoded credentials, database, and errors that never echo the password.</summary>
public sealed class RedisOptionsTests
{
    [Fact]
    public void Full_urls_parse_into_endpoint_credentials_tls_and_database()
    {
        var options = RedisOptions.FromUrl("rediss://gate%40way:p%40ss%3Aw%2Frd@cache.example.com:6380/2");
        Assert.Equal([("cache.example.com", 6380)], options.Endpoints);
        Assert.Equal("gate@way", options.Username);
        Assert.Equal("p@ss:w/rd", options.Password);
        Assert.True(options.Tls);
        Assert.Equal(2, options.Database);
        Assert.False(options.Cluster);
    }

    [Theory]
    [InlineData("redis://localhost", "localhost", 6379, null, null, 0)]
    [InlineData("redis://10.0.0.5:7000/", "10.0.0.5", 7000, null, null, 0)]
    [InlineData("REDIS://:only-password@host", "host", 6379, null, "only-password", 0)]
    [InlineData("redis://user@host/15", "host", 6379, "user", null, 15)]
    [InlineData("redis://[::1]:6390/1", "::1", 6390, null, null, 1)]
    [InlineData("redis://u:a@b/c@host:1/3", "host", 1, "u", "a@b/c", 3)]
    public void Url_forms(string url, string host, int port, string? user, string? password, int database)
    {
        var options = RedisOptions.FromUrl(url);
        Assert.Equal([(host, port)], options.Endpoints);
        Assert.Equal(user, options.Username);
        Assert.Equal(password, options.Password);
        Assert.Equal(database, options.Database);
        Assert.False(options.Tls);
    }

    [Theory]
    [InlineData("http://:topsecret@host", "redis:// or rediss://")]
    [InlineData("localhost:6379", "redis:// or rediss://")]
    [InlineData("redis://:topsecret@", "no host")]
    [InlineData("redis://:topsecret@host:99999", "port")]
    [InlineData("redis://:topsecret@host:abc", "port")]
    [InlineData("redis://:topsecret@host/db1", "database number")]
    [InlineData("redis://:topsecret@host/-1", "database number")]
    [InlineData("redis://:topsecret@host?ssl=true", "query")]
    [InlineData("redis://:topsecret@ho st", "host")]
    [InlineData("redis://:topsecret@[::1", "IPv6")]
    public void Bad_urls_raise_a_clear_format_exception_without_the_password(string url, string expected)
    {
        var error = Assert.Throws<FormatException>(() => RedisOptions.FromUrl(url));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_match_the_brief()
    {
        var options = RedisOptions.FromUrl("redis://h");
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.CommandTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReconnectMinDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ReconnectMaxDelay);
    }
}
