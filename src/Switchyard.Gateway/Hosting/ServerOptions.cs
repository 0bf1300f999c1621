using Switchyard.Core;
using Switchyard.Gateway.Observability;

namespace Switchyard.Gateway.Hosting;

/// <summary>Process-level settings (listener, shutdown, logging) plus the engine's settings, all from environment variables.</summary>
public sealed record ServerOptions
{
    /// <summary>Listen port (<c>PORT</c>, default 8787; 0 picks a free port).</summary>
    public int Port { get; init; } = 8787;

    /// <summary>Listen address (<c>BIND_ADDRESS</c>, default all interfaces).</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>How long in-flight requests and streams may run on after a stop signal (<c>SHUTDOWN_GRACE_SECONDS</c>).</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the listener keeps serving after a stop signal while readiness already answers 503 (<c>SHUTDOWN_DRAIN_SECONDS</c>,
    /// default 0), so Kubernetes takes the pod out of its endpoints before connections are refused; the grace period follows.
    /// </summary>
    public TimeSpan ShutdownDrain { get; init; } = TimeSpan.Zero;

    /// <summary>What this process serves (<c>SERVER_MODE</c>): unset or empty is the AI gateway.</summary>
    public ServerMode Mode { get; init; } = ServerMode.Gateway;

    /// <summary>The MCP gateway's listen port (<c>MCP_PORT</c>, default 8788; 0 picks a free port) in <c>SERVER_MODE</c> <c>mcp</c> and <c>all</c>.</summary>
    public int McpPort { get; init; } = 8788;

    /// <summary>Whether <c>MCP_PORT</c> was set (it has no listener outside the MCP modes, which start-up reports).</summary>
    public bool McpPortSet { get; init; }

    /// <summary>
    /// In <c>SERVER_MODE=all</c>, serve the MCP gateway on the main port instead of a listener of its own (set when <c>MCP_PORT</c>
    /// equals <c>PORT</c>); <see cref="McpPort"/> is then not bound.
    /// </summary>
    public bool McpOnMainPort { get; init; }

    /// <summary>Whether this process has a separate MCP listener (<c>SERVER_MODE=mcp</c>, or <c>all</c> unless <see cref="McpOnMainPort"/>).</summary>
    public bool HasMcpListener => Mode == ServerMode.Mcp || Mode == ServerMode.All && !McpOnMainPort;

    /// <summary>Public base URL of the MCP gateway (<c>MCP_GATEWAY_BASE_URL</c>), an absolute http(s) URL.</summary>
    public Uri? McpGatewayBaseUrl { get; init; }

    /// <summary>Readiness also waits for the response-cache store to answer (<c>READINESS_REQUIRES_CACHE</c>, default false).</summary>
    public bool ReadinessRequiresCache { get; init; }

    /// <summary>Minimum log level (<c>LOG_LEVEL</c>: trace, debug, info, warn, error).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// Run socket completions and request handling inline on the I/O threads instead of hopping to the thread pool
    /// (<c>INLINE_IO</c>, default true). Saves tens of microseconds per request; safe because the request path never blocks.
    /// </summary>
    public bool InlineIo { get; init; } = true;

    /// <summary>Quiet time after traffic before the gateway hands unused memory back to the OS (<c>IDLE_TRIM_AFTER_MS</c>; 0 disables).</summary>
    public TimeSpan IdleTrimAfter { get; init; } = TimeSpan.FromSeconds(2);

    public GatewaySettings Engine { get; init; } = new();

    /// <summary>Gateway API keys (<c>AUTH_MODE</c>, <c>API_KEYS_PATH</c>); off by default.</summary>
    public AuthOptions Auth { get; init; } = new();

    /// <summary>The admin API (<c>ADMIN_PORT</c>, <c>ADMIN_BIND_ADDRESS</c>, <c>API_KEYS_WRITABLE_FILE</c>).</summary>
    public AdminOptions Admin { get; init; } = new();

    /// <summary><c>/metrics</c> and trace export (<c>ENABLE_PROMETHEUS</c>, <c>METRICS_PORT</c>, <c>OTEL_*</c>, <c>SERVICE_NAME</c>).</summary>
    public ObservabilityOptions Observability { get; init; } = new();

    /// <summary>The engine's clock, read everywhere the gateway needs the time (tests inject one to show TTLs and stamps without waiting).</summary>
    // The composition root's default: the one place the server picks the system clock; it becomes the engine's.
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where <c>${NAME}</c> references in named configs are looked up; the process environment by default.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public static ServerOptions FromEnvironment(Func<string, string?> get)
    {
        var o = new ServerOptions();
        var mode = ServerModes.Parse(get("SERVER_MODE"));
        var port = EnvironmentValues.Int(get, "PORT", o.Port, 0, 65535);
        var mcpPortSet = EnvironmentValues.NonEmpty(get("MCP_PORT")) is not null;
        var mcpPort = EnvironmentValues.Int(get, "MCP_PORT", o.McpPort, 0, 65535);
        // In SERVER_MODE=all, MCP_PORT equal to PORT puts the MCP gateway on the main port; in mcp mode PORT is not bound.
        var mcpOnMainPort = mode == ServerMode.All && mcpPort != 0 && mcpPort == port;
        var observability = ObservabilityOptions.FromEnvironment(get);
        var auth = AuthOptions.FromEnvironment(get);
        if (observability.MetricsRequireKey && !auth.Required)
        {
            throw new FormatException("METRICS_REQUIRE_KEY=true needs AUTH_MODE=keys or jwt: /metrics is checked like any other caller, and with AUTH_MODE=none nobody can be.");
        }
        if (observability.MetricsPort is { } metricsPort && metricsPort != 0 && metricsPort == port)
        {
            throw new FormatException($"METRICS_PORT={metricsPort} is the main PORT: give the metrics listener a port of its own, or unset METRICS_PORT to serve /metrics on the main port.");
        }
        var admin = AdminOptions.FromEnvironment(get, port, observability.MetricsPort, auth);
        if (mode.ServesMcp() && !mcpOnMainPort && mcpPort != 0)
        {
            if (observability.MetricsPort == mcpPort)
            {
                throw new FormatException($"METRICS_PORT={mcpPort} is MCP_PORT: give the metrics listener and the MCP gateway a port each.");
            }
            if (admin.Port == mcpPort)
            {
                throw new FormatException($"ADMIN_PORT={mcpPort} is MCP_PORT: give the admin API and the MCP gateway a port each.");
            }
        }
        return o with
        {
            Port = port,
            Observability = observability,
            BindAddress = ParseBindAddress(get("BIND_ADDRESS")) ?? o.BindAddress,
            ShutdownGrace = TimeSpan.FromSeconds(EnvironmentValues.Int(get, "SHUTDOWN_GRACE_SECONDS", (int)o.ShutdownGrace.TotalSeconds, 0, 3600)),
            ShutdownDrain = TimeSpan.FromSeconds(EnvironmentValues.Int(get, "SHUTDOWN_DRAIN_SECONDS", 0, 0, 3600)),
            Mode = mode,
            McpPort = mcpPort,
            McpPortSet = mcpPortSet,
            McpOnMainPort = mcpOnMainPort,
            McpGatewayBaseUrl = ParseBaseUrl(get("MCP_GATEWAY_BASE_URL")),
            ReadinessRequiresCache = ParseBool(get, "READINESS_REQUIRES_CACHE", false),
            LogLevel = ParseLevel(get("LOG_LEVEL")),
            InlineIo = ParseBool(get, "INLINE_IO", o.InlineIo),
            IdleTrimAfter = TimeSpan.FromMilliseconds(EnvironmentValues.Int(get, "IDLE_TRIM_AFTER_MS", (int)o.IdleTrimAfter.TotalMilliseconds, 0, 3_600_000)),
            Engine = GatewaySettings.FromEnvironment(get),
            Auth = auth,
            Admin = admin,
            Environment = get,
        };
    }

    private static bool ParseBool(Func<string, string?> get, string name, bool fallback) => get(name)?.Trim().ToLowerInvariant() switch
    {
        null or "" => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var other => throw new FormatException($"{name}={other} is not valid: use true or false."),
    };

    private static Uri? ParseBaseUrl(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        raw = raw.Trim();
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
        {
            throw new FormatException($"MCP_GATEWAY_BASE_URL={raw} is not valid: use the MCP gateway's public base URL with its scheme, such as https://mcp.example.com.");
        }
        return url;
    }

    private static string? ParseBindAddress(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        raw = raw.Trim();
        if (raw != "localhost" && !System.Net.IPAddress.TryParse(raw, out _))
        {
            throw new FormatException($"BIND_ADDRESS={raw} is not valid: use an IP address such as 0.0.0.0, 127.0.0.1 or ::, or localhost.");
        }
        return raw;
    }

    private static LogLevel ParseLevel(string? raw) => raw?.Trim().ToLowerInvariant() switch
    {
        null or "" or "info" or "information" => LogLevel.Information,
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" or "fatal" => LogLevel.Critical,
        "none" or "off" => LogLevel.None,
        _ => throw new FormatException($"LOG_LEVEL={raw} is not valid: use trace, debug, info, warn, error or none."),
    };
}
