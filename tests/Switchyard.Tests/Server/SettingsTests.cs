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

    [Fact]
    public void Data_path_is_the_base_of_the_log_directories_unless_they_are_set()
    {
        var defaults = ServerOptions.FromEnvironment(Env());
        Assert.Equal("./data", defaults.Engine.DataPath);
        Assert.Equal("./data/logs", defaults.Engine.Logs.Directory);
        Assert.Equal("./data/log-spill", defaults.Engine.Logs.Delivery.SpillDirectory);

        var moved = ServerOptions.FromEnvironment(Env(("DATA_PATH", "/tmp/switchyard/")));
        Assert.Equal("/tmp/switchyard/logs", moved.Engine.Logs.Directory);
        Assert.Equal("/tmp/switchyard/log-spill", moved.Engine.Logs.Delivery.SpillDirectory);

        var own = ServerOptions.FromEnvironment(Env(("DATA_PATH", "/tmp/switchyard"), ("LOG_STORE_LOCAL_PATH", "/logs"), ("LOG_STORE_SPILL_PATH", "/spill")));
        Assert.Equal("/logs", own.Engine.Logs.Directory);
        Assert.Equal("/spill", own.Engine.Logs.Delivery.SpillDirectory);
    }

    [Fact]
    public void Server_mode_and_the_mcp_settings_are_read_and_checked()
    {
        var defaults = ServerOptions.FromEnvironment(Env());
        Assert.Equal(ServerMode.Gateway, defaults.Mode);
        Assert.Equal(8788, defaults.McpPort);
        Assert.False(defaults.McpPortSet);
        Assert.Null(defaults.McpGatewayBaseUrl);
        Assert.False(defaults.ReadinessRequiresCache);
        Assert.Equal(TimeSpan.Zero, defaults.ShutdownDrain);

        var set = ServerOptions.FromEnvironment(Env(("SERVER_MODE", " "), ("MCP_PORT", "9788"), ("MCP_GATEWAY_BASE_URL", "https://mcp.example.com/"),
            ("READINESS_REQUIRES_CACHE", "true"), ("SHUTDOWN_DRAIN_SECONDS", "5")));
        Assert.Equal(ServerMode.Gateway, set.Mode);
        Assert.Equal(9788, set.McpPort);
        Assert.True(set.McpPortSet);
        Assert.Equal(new Uri("https://mcp.example.com/"), set.McpGatewayBaseUrl);
        Assert.True(set.ReadinessRequiresCache);
        Assert.Equal(TimeSpan.FromSeconds(5), set.ShutdownDrain);
        // The default MCP port on the main port is no conflict while nothing listens on it.
        Assert.Equal(8788, ServerOptions.FromEnvironment(Env(("PORT", "8788"))).Port);
    }

    [Theory]
    [InlineData("SERVER_MODE", "gateway", "SERVER_MODE=gateway is not valid: leave it unset or empty for the AI gateway, mcp for the MCP gateway alone, or all for both.")]
    [InlineData("MCP_PORT", "70000", "MCP_PORT=70000 is not valid: expected a whole number from 0 to 65535.")]
    [InlineData("MCP_GATEWAY_BASE_URL", "mcp.example.com", "MCP_GATEWAY_BASE_URL=mcp.example.com is not valid")]
    [InlineData("MCP_GATEWAY_BASE_URL", "ftp://mcp.example.com", "MCP_GATEWAY_BASE_URL=ftp://mcp.example.com is not valid")]
    [InlineData("READINESS_REQUIRES_CACHE", "sometimes", "READINESS_REQUIRES_CACHE=sometimes is not valid")]
    [InlineData("SHUTDOWN_DRAIN_SECONDS", "-1", "SHUTDOWN_DRAIN_SECONDS=-1 is not valid")]
    public void A_wrong_server_setting_is_refused_with_its_name(string name, string value, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env((name, value))));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_log_directory_that_cannot_be_written_is_refused_naming_the_variable()
    {
        // A regular file where a directory should be: no directory can be made under it, whoever runs the test.
        var file = Path.GetTempFileName();
        try
        {
            var derived = ServerOptions.FromEnvironment(Env(("DATA_PATH", file)));
            var ex = Assert.Throws<FormatException>(() => WritableDirectories.Check(derived));
            Assert.StartsWith($"LOG_STORE_LOCAL_PATH={file}/logs, the default under DATA_PATH={file}, cannot be written (", ex.Message, StringComparison.Ordinal);
            Assert.EndsWith("point DATA_PATH, or LOG_STORE_LOCAL_PATH, at a writable directory such as /tmp or a mounted volume.", ex.Message, StringComparison.Ordinal);

            var spill = ServerOptions.FromEnvironment(Env(("LOG_STORE", "s3"), ("LOG_STORE_REGION", "eu-west-1"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "s"),
                ("LOG_STORE_SPILL_PATH", file + "/spill")));
            ex = Assert.Throws<FormatException>(() => WritableDirectories.Check(spill));
            Assert.StartsWith($"LOG_STORE_SPILL_PATH={file}/spill cannot be written (", ex.Message, StringComparison.Ordinal);
            Assert.EndsWith("point LOG_STORE_SPILL_PATH at a writable directory such as /tmp or a mounted volume.", ex.Message, StringComparison.Ordinal);

            // Nothing is written when nothing is logged.
            WritableDirectories.Check(ServerOptions.FromEnvironment(Env(("DATA_PATH", file), ("LOG_STORE", "none"))));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
