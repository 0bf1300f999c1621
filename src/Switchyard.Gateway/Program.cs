using Switchyard.Gateway.Hosting;

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

app.Logger.LogInformation("Switchyard {Version} listening on {Address}:{Port}; configs from {ConfigDir}; data under {DataPath}",
    Switchyard.Gateway.Endpoints.HealthEndpoint.Version, options.BindAddress, options.Port, Path.GetFullPath(options.Engine.Configs.Directory),
    Path.GetFullPath(options.Engine.DataPath));
if (options.Mode == ServerMode.Gateway && (options.McpPortSet || options.McpGatewayBaseUrl is not null))
{
    // Valid, but nothing uses them in this mode: say so rather than ignore them silently.
    app.Logger.LogWarning("MCP_PORT / MCP_GATEWAY_BASE_URL are set but SERVER_MODE runs the AI gateway only: no MCP listener is started");
}
await app.RunAsync();
return 0;
