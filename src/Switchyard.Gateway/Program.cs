using Switchyard.Gateway.Hosting;

if (args.Length > 0 && args[0] == HashKeyCommand.Name)
{
    return HashKeyCommand.Run(args, Console.Out, Console.Error);
}

WebApplication app;
ServerOptions options;
try
{
    options = ServerOptions.FromEnvironment(Environment.GetEnvironmentVariable);
    if (options.InlineIo && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    {
        // Read once when the first socket is created, so it must be set before anything opens one.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    }
    app = GatewayApp.Build(options);
}
catch (FormatException ex)
{
    // A setting the operator got wrong: say which, and do not start half-configured.
    Console.Error.WriteLine($"switchyard: {ex.Message}");
    return 2;
}

if (options.Mode.ServesAi())
{
    app.Logger.LogInformation("Switchyard {Version} listening on {Address}:{Port}; configs from {ConfigDir}; data under {DataPath}",
        Switchyard.Gateway.Endpoints.HealthEndpoint.Version, options.BindAddress, options.Port, Path.GetFullPath(options.Engine.Configs.Directory),
        Path.GetFullPath(options.Engine.DataPath));
}
if (options.Mode.ServesMcp())
{
    var mcp = app.Services.GetRequiredService<Switchyard.Gateway.Mcp.McpOptions>();
    app.Logger.LogInformation("Switchyard {Version} MCP gateway (SERVER_MODE={Mode}) listening on {Address}:{Port}{Shared}; servers from {ServersPath}; public base URL {BaseUrl}",
        Switchyard.Gateway.Endpoints.HealthEndpoint.Version, options.Mode == ServerMode.Mcp ? "mcp" : "all", options.BindAddress,
        options.McpOnMainPort ? options.Port : options.McpPort, options.McpOnMainPort ? " (the main port, MCP_PORT=PORT)" : "",
        Path.GetFullPath(mcp.ServersPath), options.McpGatewayBaseUrl?.ToString() ?? "(from each request's Host; set MCP_GATEWAY_BASE_URL behind a proxy)");
    if (options.Mode == ServerMode.Mcp && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("PORT")))
    {
        app.Logger.LogWarning("PORT is set but SERVER_MODE=mcp serves the MCP gateway alone, on MCP_PORT ({McpPort}): nothing listens on PORT", options.McpPort);
    }
}
if (options.Mode == ServerMode.Gateway)
{
    string[] mcpSettings = ["MCP_PORT", "MCP_GATEWAY_BASE_URL", "MCP_SERVERS_PATH", "SERVERS_CONFIG_PATH", "MCP_ALLOWED_HOSTS", "MCP_ALLOWED_ORIGINS",
        "MCP_SESSION_IDLE_SECONDS", "MCP_MAX_IDLE_SESSIONS", "MCP_EVENT_BUFFER", "MCP_MAX_BODY_BYTES"];
    if (mcpSettings.Where(name => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name))).ToArray() is { Length: > 0 } mcpSet)
    {
        // Valid, but nothing uses them in this mode: say so rather than ignore them silently.
        app.Logger.LogWarning("{Variables} set but SERVER_MODE runs the AI gateway only: no MCP listener is started (set SERVER_MODE=mcp or all)",
            string.Join(", ", mcpSet));
    }
}
// Portkey's control-plane settings come along in values files copied from Portkey's guides. Switchyard has no control
// plane and reads none of them: say so once rather than ignore them silently.
string[] controlPlane = ["PORTKEY_CLIENT_AUTH", "ORGANISATIONS_TO_SYNC", "ANALYTICS_STORE", "ALBUS_BASEPATH", "CONTROL_PLANE_BASEPATH",
    "SOURCE_SYNC_API_BASEPATH", "CONFIG_READER_PATH", "HYBRID_DEPLOYMENT", "PRIVATE_DEPLOYMENT"];
if (controlPlane.Where(name => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name))).ToArray() is { Length: > 0 } set)
{
    app.Logger.LogWarning("{Variables} set: these configure Portkey's control plane, which Switchyard does not use; they have no effect (metrics are on /metrics, traces go to OTLP, configs come from CONFIG_DIR)",
        string.Join(", ", set));
}
await app.RunAsync();
return 0;
