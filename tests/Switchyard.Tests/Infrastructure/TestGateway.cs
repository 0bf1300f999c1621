using System.Net.Http.Headers;
using System.Text;
using Switchyard.Core;
using Switchyard.Gateway;

namespace Switchyard.Tests.Infrastructure;

/// <summary>The real gateway (Kestrel, loopback, port 0) in-process, with its own temporary config directory.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, string configDir, ServerOptions options)
    {
        _app = app;
        ConfigDirectory = configDir;
        Options = options;
        BaseUrl = GatewayApp.BoundAddress(app);
        Client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUrl { get; }

    /// <summary><c>http://127.0.0.1:{METRICS_PORT}</c> when the gateway has a separate metrics listener.</summary>
    public Uri MetricsUrl => new($"http://127.0.0.1:{GatewayApp.BoundMetricsPort(_app)}");

    /// <summary>The OpenAI-compatible base, <c>http://127.0.0.1:port/v1</c>.</summary>
    public Uri V1 => new(BaseUrl, "/v1");

    public HttpClient Client { get; }

    public string ConfigDirectory { get; }

    public ServerOptions Options { get; }

    public SwitchyardEngine Engine => _app.Services.GetRequiredService<SwitchyardEngine>();

    public WebApplication App => _app;

    /// <summary>Fast retry timings so tests do not sleep for seconds.</summary>
    public static GatewaySettings FastSettings(string configDir) => new()
    {
        Configs = new() { Directory = configDir, ReloadDebounce = TimeSpan.FromMilliseconds(50) },
        Logs = new() { Directory = Path.Combine(Path.GetTempPath(), "switchyard-logs-" + Guid.NewGuid().ToString("N")) },
        Retry = new() { InitialDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20), Budget = TimeSpan.FromSeconds(5) },
        // The test machine runs many gateways at once; a cache lookup that has to JIT and connect may take a while.
        Cache = new Switchyard.Core.Caching.CacheOptions { Timeout = TimeSpan.FromSeconds(2) },
    };

    /// <summary>Cache settings from environment-style variables, with the tests' patient timeout.</summary>
    public static Switchyard.Core.Caching.CacheOptions CacheFromEnvironment(Func<string, string?> get) =>
        Switchyard.Core.Caching.CacheOptions.FromEnvironment(get) with { Timeout = TimeSpan.FromSeconds(2) };

    public static async Task<TestGateway> StartAsync(
        IReadOnlyDictionary<string, string>? configs = null,
        Func<GatewaySettings, GatewaySettings>? settings = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? shutdownGrace = null,
        TimeProvider? time = null,
        Func<ServerOptions, ServerOptions>? server = null)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-configs-").FullName;
        foreach (var (file, text) in configs ?? new Dictionary<string, string>())
        {
            await File.WriteAllTextAsync(Path.Combine(dir, file), text);
        }
        Func<string, string?> env = name => environment is not null && environment.TryGetValue(name, out var v) ? v : null;
        // Telemetry settings come from the injected environment, as a deployment's would from the process's.
        var engine = FastSettings(dir) with { Telemetry = Switchyard.Core.Telemetry.TelemetryOptions.FromEnvironment(env) };
        var options = new ServerOptions
        {
            Port = 0,
            BindAddress = "127.0.0.1",
            LogLevel = LogLevel.Warning,
            ShutdownGrace = shutdownGrace ?? TimeSpan.FromSeconds(5),
            Engine = settings is null ? engine : settings(engine),
            Environment = env,
            Observability = Switchyard.Gateway.Observability.ObservabilityOptions.FromEnvironment(env),
            Time = time ?? TimeProvider.System,
        };
        if (server is not null)
        {
            options = server(options);
        }
        var app = GatewayApp.Build(options);
        await app.StartAsync();
        return new TestGateway(app, dir, options);
    }

    /// <summary>A JSON POST with the given headers.</summary>
    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return With(request, headers);
    }

    /// <summary>Any request with the given headers (GET, multipart …).</summary>
    public static HttpRequestMessage With(HttpRequestMessage request, params (string Name, string Value)[] headers)
    {
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead)
        => Client.SendAsync(request, option);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await _app.DisposeAsync();
            foreach (var dir in new[] { ConfigDirectory, Options.Engine.Logs.Directory })
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // Already gone, or never created when nothing was logged.
                }
            }
        }
    }
}
