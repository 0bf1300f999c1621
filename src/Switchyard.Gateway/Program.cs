using Switchyard.Gateway;

ServerOptions options;
try
{
    options = ServerOptions.FromEnvironment(Environment.GetEnvironmentVariable);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"switchyard: {ex.Message}");
    return 2;
}

var app = GatewayApp.Build(options);
app.Logger.LogInformation("Switchyard {Version} listening on {Address}:{Port}; configs from {ConfigDir}",
    HealthEndpoint.Version, options.BindAddress, options.Port, Path.GetFullPath(options.Engine.ConfigDirectory));
await app.RunAsync();
return 0;
