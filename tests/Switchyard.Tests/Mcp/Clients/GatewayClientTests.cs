using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>
/// Real clients through the gateway (<c>SERVER_MODE=mcp</c>, <see cref="McpGatewayHost"/>) in both eras, including the era matrix:
/// a modern-era client against the legacy server-everything, and a legacy client against our modern fixture. Single-server
/// routes (<c>/{server}/mcp</c>) keep the upstream's tool names.
/// </summary>
public sealed class GatewayClientTests(ITestOutputHelper output)
{
    private const string Key = "sk-switchyard-mcp-client-tests-0001";

    private static Dictionary<string, string> Bearer => new() { ["Authorization"] = $"Bearer {Key}" };

    [Fact]
    public async Task Inspector015_LegacyClient_ThroughGateway_ListsAndCallsServerEverything()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("everything", new Uri(everything.BaseUrl, "/mcp")));

        var list = await InspectorCli.RunV015Async(gateway.Endpoint("everything"), "http", InspectorCli.ListTools);
        output.WriteLine(list.ToString());
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("get-sum", list.ToolNames());

        var call = await InspectorCli.RunV015Async(gateway.Endpoint("everything"), "http", InspectorCli.CallTool("get-sum", "a=2", "b=3"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("The sum of 2 and 3 is 5.", call.FirstText());
    }

    [Fact]
    public async Task Inspector015_LegacyClient_ThroughGateway_CallsModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("modern", new Uri(modern.BaseUrl, "/mcp")));

        var call = await InspectorCli.RunV015Async(gateway.Endpoint("modern"), "http", InspectorCli.CallTool("add", "a=20", "b=22"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("42", call.FirstText());
    }

    [Fact]
    public async Task Inspector2_ModernClient_ThroughGateway_WithKey_CallsServerEverything_AndWithoutKeyIsRefused()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("everything", new Uri(everything.BaseUrl, "/mcp")), apiKey: Key);

        var call = await InspectorCli.RunV2Async(gateway.Endpoint("everything"), "http", [("Authorization", $"Bearer {Key}")], InspectorCli.CallTool("echo", "message=hi"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("Echo: hi", call.FirstText());

        var refused = await InspectorCli.RunV2Async(gateway.Endpoint("everything"), "http", null, InspectorCli.ListTools);
        output.WriteLine(refused.ToString());
        Assert.NotEqual(0, refused.ExitCode);
    }

    [Fact]
    public async Task Inspector2_ModernClient_ThroughGateway_WithKey_CallsModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("modern", new Uri(modern.BaseUrl, "/mcp")), apiKey: Key);

        var call = await InspectorCli.RunV2Async(gateway.Endpoint("modern"), "http", [("Authorization", $"Bearer {Key}")], InspectorCli.CallTool("add", "a=2", "b=40"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("42", call.FirstText());
    }

    [Fact]
    public async Task CSharpClient_ModernEra_ThroughGateway_ToLegacyServerEverything()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("everything", new Uri(everything.BaseUrl, "/mcp")), apiKey: Key);
        await using var client = await McpClientFactory.ConnectAsync(gateway.Endpoint("everything"), headers: Bearer);
        output.WriteLine($"negotiated {client.NegotiatedProtocolVersion} with the gateway");

        // The gateway speaks 2026-07-28 downstream although its upstream only speaks 2025-11-25.
        Assert.Equal(McpClientFactory.Modern, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync();
        Assert.Contains(tools, t => t.Name == "echo");
        Assert.Equal("Echo: modern to legacy", McpClientFactory.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "modern to legacy" })));
    }

    [Fact]
    public async Task CSharpClient_LegacyEra_ThroughGateway_ToModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("modern", new Uri(modern.BaseUrl, "/mcp")), apiKey: Key);
        await using var client = await McpClientFactory.ConnectAsync(gateway.Endpoint("modern"), McpClientFactory.Legacy, Bearer);
        output.WriteLine($"negotiated {client.NegotiatedProtocolVersion} with the gateway");

        Assert.Equal(McpClientFactory.Legacy, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync();
        Assert.Equal(["add", "describe", "echo"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal("5", McpClientFactory.Text(await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })));
    }

    [Fact]
    public async Task CSharpClient_ModernEra_ThroughGateway_ToModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("modern", new Uri(modern.BaseUrl, "/mcp")), apiKey: Key);
        await using var client = await McpClientFactory.ConnectAsync(gateway.Endpoint("modern"), headers: Bearer);

        Assert.Equal(McpClientFactory.Modern, client.NegotiatedProtocolVersion);
        Assert.Equal("Echo: both modern", McpClientFactory.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "both modern" })));
    }
}
