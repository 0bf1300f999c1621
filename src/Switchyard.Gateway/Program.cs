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

app.Logger.LogInformation("Switchyard {Version} listening on {Address}:{Port}; configs from {ConfigDir}",
    Switchyard.Gateway.Endpoints.HealthEndpoint.Version, options.BindAddress, options.Port, Path.GetFullPath(options.Engine.Configs.Directory));
await app.RunAsync();
return 0;
