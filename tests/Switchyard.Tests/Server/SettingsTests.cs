using Switchyard.Core;
using Switchyard.Core.Providers;
using Switchyard.Gateway;
using Xunit;

namespace Switchyard.Tests.Server;

/// <summary>Environment variables become settings, and a wrong value is refused with a message naming it.</summary>
public sealed class SettingsTests
{
    private static Func<string, string?> Env(params (string, string)[] values)
    {
        var map = values.ToDictionary(v => v.Item1, v => v.Item2);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void Defaults_and_overrides_are_read()
    {
        var defaults = ServerOptions.FromEnvironment(Env());
        Assert.Equal(8787, defaults.Port);
        Assert.Equal("0.0.0.0", defaults.BindAddress);
        Assert.True(defaults.InlineIo);
        Assert.Equal("local", defaults.Engine.LogStore);
        Assert.Equal("./configs", defaults.Engine.ConfigDirectory);

        var set = ServerOptions.FromEnvironment(Env(("PORT", "9000"), ("BIND_ADDRESS", "::"), ("INLINE_IO", "off"), ("LOG_STORE", "NONE"),
            ("IDLE_TRIM_AFTER_MS", "0"), ("LOG_STORE_LOCAL_MAX_MB", "10"), ("PROVIDER_BASE_URLS", "openai=http://egress.internal:8080/openai/v1/, groq=https://g.example/v1")));
        Assert.Equal(9000, set.Port);
        Assert.Equal("::", set.BindAddress);
        Assert.False(set.InlineIo);
        Assert.Equal("none", set.Engine.LogStore);
        Assert.Equal(TimeSpan.Zero, set.IdleTrimAfter);
        Assert.Equal(10L << 20, set.Engine.LogTotalLimitBytes);
        Assert.Equal("http://egress.internal:8080/openai/v1", set.Engine.ProviderBaseUrls["openai"]);
        var registry = ProviderRegistry.Default.WithBaseUrls(set.Engine.ProviderBaseUrls);
        Assert.True(registry.TryGetProvider("groq", out var groq));
        Assert.Equal("https://g.example/v1", groq.BaseUrl);
    }

    [Theory]
    [InlineData("PORT", "eighty", "PORT=eighty")]
    [InlineData("BIND_ADDRESS", "somewhere", "BIND_ADDRESS=somewhere")]
    [InlineData("INLINE_IO", "maybe", "INLINE_IO=maybe")]
    [InlineData("LOG_LEVEL", "loud", "LOG_LEVEL=loud")]
    [InlineData("LOG_STORE", "s3", "LOG_STORE=s3 is not available")]
    [InlineData("PROVIDER_BASE_URLS", "openai", "PROVIDER_BASE_URLS entry 'openai'")]
    [InlineData("REQUEST_TIMEOUT", "-1", "REQUEST_TIMEOUT=-1")]
    public void A_wrong_value_is_refused_with_its_name(string name, string value, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env((name, value))));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void A_base_url_override_for_an_unknown_provider_is_refused()
    {
        var settings = GatewaySettings.FromEnvironment(Env(("PROVIDER_BASE_URLS", "nope=https://x.example/v1")));
        var ex = Assert.Throws<FormatException>(() => ProviderRegistry.Default.WithBaseUrls(settings.ProviderBaseUrls));
        Assert.Contains("unknown provider 'nope'", ex.Message);
    }
}
