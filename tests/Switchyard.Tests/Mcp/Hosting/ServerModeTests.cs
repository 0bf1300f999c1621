using Switchyard.Gateway.Mcp;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary><c>SERVER_MODE</c>, <c>MCP_PORT</c> and the MCP settings: read, checked, and refused with the variable's name.</summary>
public sealed class ServerModeTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Theory]
    [InlineData(null, ServerMode.Gateway)]
    [InlineData("", ServerMode.Gateway)]
    [InlineData("  ", ServerMode.Gateway)]
    [InlineData("mcp", ServerMode.Mcp)]
    [InlineData("MCP", ServerMode.Mcp)]
    [InlineData(" all ", ServerMode.All)]
    [InlineData("All", ServerMode.All)]
    public void Server_modes_parse(string? raw, ServerMode expected) => Assert.Equal(expected, ServerModes.Parse(raw));

    [Theory]
    [InlineData("gateway")]
    [InlineData("mcp,all")]
    [InlineData("both")]
    public void An_unknown_server_mode_is_refused_naming_the_variable(string raw)
    {
        var ex = Assert.Throws<FormatException>(() => ServerModes.Parse(raw));
        Assert.Equal($"SERVER_MODE={raw} is not valid: leave it unset or empty for the AI gateway, mcp for the MCP gateway alone, or all for both.", ex.Message);
        Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("SERVER_MODE", raw))));
    }

    [Fact]
    public void Every_implemented_mode_parses_and_says_what_it_serves()
    {
        Assert.Equal(["", "mcp", "all"], ServerModes.Implemented);
        Assert.True(ServerMode.Gateway.ServesAi());
        Assert.False(ServerMode.Gateway.ServesMcp());
        Assert.False(ServerMode.Mcp.ServesAi());
        Assert.True(ServerMode.Mcp.ServesMcp());
        Assert.True(ServerMode.All.ServesAi());
        Assert.True(ServerMode.All.ServesMcp());
    }

    [Fact]
    public void Mcp_port_equal_to_port_in_all_mode_means_the_main_port()
    {
        var shared = ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all"), ("PORT", "9000"), ("MCP_PORT", "9000")));
        Assert.True(shared.McpOnMainPort);
        Assert.False(shared.HasMcpListener);

        var own = ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all"), ("PORT", "9000"), ("MCP_PORT", "9001")));
        Assert.False(own.McpOnMainPort);
        Assert.True(own.HasMcpListener);
        Assert.Equal(9001, own.McpPort);

        var byDefault = ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all")));
        Assert.Equal(8788, byDefault.McpPort);
        Assert.True(byDefault.HasMcpListener);

        // In mcp mode nothing listens on PORT, so the same number is no conflict and MCP keeps its listener.
        var mcp = ServerOptions.FromEnvironment(Env(("SERVER_MODE", "mcp"), ("PORT", "9000"), ("MCP_PORT", "9000")));
        Assert.False(mcp.McpOnMainPort);
        Assert.True(mcp.HasMcpListener);

        // In the AI-only mode MCP_PORT has no listener at all.
        var ai = ServerOptions.FromEnvironment(Env(("PORT", "9000"), ("MCP_PORT", "9000")));
        Assert.False(ai.HasMcpListener);
        Assert.True(ai.McpPortSet);

        // Port 0 picks a free port: two zeros are two listeners.
        Assert.False(ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all"), ("PORT", "0"), ("MCP_PORT", "0"))).McpOnMainPort);
    }

    [Theory]
    [InlineData("METRICS_PORT", "METRICS_PORT=9001 is MCP_PORT: give the metrics listener and the MCP gateway a port each.")]
    [InlineData("ADMIN_PORT", "ADMIN_PORT=9001 is MCP_PORT: give the admin API and the MCP gateway a port each.")]
    public void A_listener_on_the_mcp_port_is_refused(string name, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all"), ("MCP_PORT", "9001"), ("ENABLE_PROMETHEUS", "true"), (name, "9001"))));
        Assert.Equal(message, ex.Message);
        // Outside the MCP modes MCP_PORT is not bound, so the same number is no conflict.
        ServerOptions.FromEnvironment(Env(("MCP_PORT", "9001"), ("ENABLE_PROMETHEUS", "true"), (name, "9001")));
    }

    [Theory]
    [InlineData("MCP_MAX_BODY_BYTES", "lots", "MCP_MAX_BODY_BYTES=lots is not valid")]
    [InlineData("MCP_MAX_BODY_BYTES", "10", "MCP_MAX_BODY_BYTES=10 is not valid")]
    [InlineData("MCP_SESSION_IDLE_SECONDS", "-5", "MCP_SESSION_IDLE_SECONDS=-5 is not valid")]
    [InlineData("MCP_EVENT_BUFFER", "x", "MCP_EVENT_BUFFER=x is not valid")]
    public void A_bad_mcp_setting_stops_the_start_naming_it(string name, string value, string message)
    {
        var options = new ServerOptions
        {
            Port = 0, McpPort = 0, BindAddress = "127.0.0.1", Mode = ServerMode.All, Environment = Env((name, value)),
            Engine = Switchyard.Tests.Infrastructure.TestGateway.FastSettings(Path.Combine(Path.GetTempPath(), "switchyard-never-" + Guid.NewGuid().ToString("N"))),
        };
        var ex = Assert.Throws<FormatException>(() => GatewayApp.Build(options));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        // The AI gateway alone does not read them (start-up warns that they are set instead).
        Assert.Equal(1000, McpOptions.FromEnvironment(Env()).EventBuffer);
    }

    [Fact]
    public void Bad_base_url_and_mcp_port_are_refused_naming_them()
    {
        Assert.StartsWith("MCP_GATEWAY_BASE_URL=mcp.example.com is not valid",
            Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("SERVER_MODE", "mcp"), ("MCP_GATEWAY_BASE_URL", "mcp.example.com")))).Message, StringComparison.Ordinal);
        Assert.StartsWith("MCP_PORT=70000 is not valid",
            Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("SERVER_MODE", "all"), ("MCP_PORT", "70000")))).Message, StringComparison.Ordinal);
    }
}
