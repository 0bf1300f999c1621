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
        Assert.Equal("local", defaults.Engine.Logs.Store);
        Assert.Equal("./configs", defaults.Engine.Configs.Directory);

        var set = ServerOptions.FromEnvironment(Env(("PORT", "9000"), ("BIND_ADDRESS", "::"), ("INLINE_IO", "off"), ("LOG_STORE", "NONE"),
            ("IDLE_TRIM_AFTER_MS", "0"), ("LOG_STORE_LOCAL_MAX_MB", "10"), ("PROVIDER_BASE_URLS", "openai=http://egress.internal:8080/openai/v1/, groq=https://g.example/v1")));
        Assert.Equal(9000, set.Port);
        Assert.Equal("::", set.BindAddress);
        Assert.False(set.InlineIo);
        Assert.Equal("none", set.Engine.Logs.Store);
        Assert.Equal(TimeSpan.Zero, set.IdleTrimAfter);
        Assert.Equal(10L << 20, set.Engine.Logs.TotalLimitBytes);
        Assert.Equal("http://egress.internal:8080/openai/v1", set.Engine.Upstream.BaseUrls["openai"]);
        var registry = ProviderRegistry.Default.WithBaseUrls(set.Engine.Upstream.BaseUrls);
        Assert.True(registry.TryGetProvider("groq", out var groq));
        Assert.Equal("https://g.example/v1", groq.BaseUrl);
    }

    [Theory]
    [InlineData("PORT", "eighty", "PORT=eighty")]
    [InlineData("BIND_ADDRESS", "somewhere", "BIND_ADDRESS=somewhere")]
    [InlineData("INLINE_IO", "maybe", "INLINE_IO=maybe")]
    [InlineData("LOG_LEVEL", "loud", "LOG_LEVEL=loud")]
    [InlineData("LOG_STORE", "mongo", "LOG_STORE=mongo is not valid")]
    [InlineData("LOG_STORE", "s3", "LOG_STORE=s3 needs LOG_STORE_REGION")]
    [InlineData("PROVIDER_BASE_URLS", "openai", "PROVIDER_BASE_URLS entry 'openai'")]
    [InlineData("REQUEST_TIMEOUT", "-1", "REQUEST_TIMEOUT=-1")]
    public void A_wrong_value_is_refused_with_its_name(string name, string value, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env((name, value))));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Each_group_reads_its_own_variables_and_the_settings_are_those_groups()
    {
        var get = Env(("CONFIG_DIR", " /etc/switchyard "), ("CONFIG_RELOAD_DEBOUNCE_MS", "75"),
            ("RETRY_MAX_ATTEMPTS", "3"), ("RETRY_INITIAL_DELAY_MS", "10"), ("RETRY_MAX_DELAY_MS", "40"), ("RETRY_TOTAL_BUDGET_MS", "900"),
            ("REQUEST_TIMEOUT", "1500"), ("UPSTREAM_CONNECT_TIMEOUT_MS", "250"), ("UPSTREAM_CA_FILE", "/ca.pem"), ("TRUSTED_CUSTOM_HOSTS", "10.0.0.9"),
            ("GCP_AUTH_MODE", "WORKLOAD"), ("GCE_METADATA_HOST", "169.254.169.254"), ("MAX_JSON_PAYLOAD_SIZE_IN_MB", "2"),
            ("LOG_STORE_LOCAL_PATH", "/var/log/sy"), ("LOG_STORE_LOCAL_FILE_MB", "8"), ("LOG_QUEUE_CAPACITY", "50"), ("CACHE_STORE", "none"));
        var settings = GatewaySettings.FromEnvironment(get);

        Assert.Equal(new Switchyard.Core.Configs.ConfigStoreOptions { Directory = "/etc/switchyard", ReloadDebounce = TimeSpan.FromMilliseconds(75) }, settings.Configs);
        Assert.Equal(new Switchyard.Core.Routing.RetryOptions
        {
            MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(40), Budget = TimeSpan.FromMilliseconds(900),
        }, settings.Retry);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), settings.Upstream.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.Upstream.ConnectTimeout);
        Assert.Equal("/ca.pem", settings.Upstream.CaFile);
        Assert.Equal("10.0.0.9", settings.Upstream.TrustedCustomHosts);
        Assert.Empty(settings.Upstream.BaseUrls);
        Assert.Equal(new Switchyard.Core.Providers.Google.GcpOptions { AuthMode = "workload", MetadataHost = "169.254.169.254" }, settings.Gcp);
        Assert.Equal(2L << 20, settings.Limits.MaxBodyBytes);
        Assert.Equal(new Switchyard.Core.Logs.LogStoreOptions { Directory = "/var/log/sy", FileLimitBytes = 8L << 20, QueueCapacity = 50 }, settings.Logs);
        Assert.Equal("none", settings.Cache.Store);

        // Each group binds on its own, to the same values; unset, every group keeps its defaults.
        Assert.Equal(settings.Retry, Switchyard.Core.Routing.RetryOptions.FromEnvironment(get));
        Assert.Equal(settings.Logs, Switchyard.Core.Logs.LogStoreOptions.FromEnvironment(get));
        var defaults = GatewaySettings.FromEnvironment(Env());
        Assert.Equal(new Switchyard.Core.Routing.RetryOptions(), defaults.Retry);
        Assert.Equal(new Switchyard.Core.Configs.ConfigStoreOptions(), defaults.Configs);
        Assert.Equal(new Switchyard.Core.Logs.LogStoreOptions(), defaults.Logs);
        Assert.Equal(new Switchyard.Core.Requests.RequestLimits(), defaults.Limits);
        Assert.Equal(new Switchyard.Core.Providers.Google.GcpOptions(), defaults.Gcp);
        Assert.Equal(TimeSpan.FromMinutes(5), defaults.Upstream.RequestTimeout);
        Assert.Equal(100L << 20, defaults.Limits.MaxBodyBytes);
    }

    [Theory]
    [InlineData("RETRY_MAX_ATTEMPTS", "21", "RETRY_MAX_ATTEMPTS=21 is not valid: expected a whole number from 0 to 20.")]
    [InlineData("CONFIG_RELOAD_DEBOUNCE_MS", "soon", "CONFIG_RELOAD_DEBOUNCE_MS=soon is not valid: expected a whole number from 0 to 2147483647.")]
    [InlineData("MAX_JSON_PAYLOAD_SIZE_IN_MB", "0", "MAX_JSON_PAYLOAD_SIZE_IN_MB=0 is not valid: expected a whole number from 1 to 4096.")]
    [InlineData("LOG_QUEUE_CAPACITY", "0", "LOG_QUEUE_CAPACITY=0 is not valid: expected a whole number from 1 to 10000000.")]
    [InlineData("CACHE_TIMEOUT_MS", "0", "CACHE_TIMEOUT_MS=0 is not valid: expected a whole number from 1 to 60000.")]
    [InlineData("SHUTDOWN_GRACE_SECONDS", "3601", "SHUTDOWN_GRACE_SECONDS=3601 is not valid: expected a whole number from 0 to 3600.")]
    public void Every_group_words_a_number_out_of_range_the_same_way(string name, string value, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env((name, value))));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void A_base_url_override_for_an_unknown_provider_is_refused()
    {
        var settings = GatewaySettings.FromEnvironment(Env(("PROVIDER_BASE_URLS", "nope=https://x.example/v1")));
        var ex = Assert.Throws<FormatException>(() => ProviderRegistry.Default.WithBaseUrls(settings.Upstream.BaseUrls));
        Assert.Contains("unknown provider 'nope'", ex.Message);
    }
}
