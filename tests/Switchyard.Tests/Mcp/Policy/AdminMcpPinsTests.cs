using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Switchyard.Gateway.Endpoints.Admin;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Policy;
using Xunit;
using static Switchyard.Tests.Mcp.Policy.McpPolicyTestKit;

namespace Switchyard.Tests.Mcp.Policy;

/// <summary>
/// The pin handlers of the admin API (<c>/v1/admin/mcp/pins</c>). Their routing, the admin scope and the OpenAPI document are
/// covered with every other admin route in Security/AdminApiTests; here the handlers run against a pin store.
/// </summary>
public sealed class AdminMcpPinsTests
{
    private static async Task<(int Status, JsonElement Body)> RunAsync(IServiceProvider services, Func<AdminMcpPins, HttpContext, Task> handle)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        var body = new MemoryStream();
        context.Response.Body = body;
        await handle(new AdminMcpPins(services), context);
        Assert.Equal("application/json", context.Response.ContentType);
        return (context.Response.StatusCode, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }

    [Fact]
    public async Task List_accept_and_forget_pins()
    {
        var pins = Pins();
        var services = new ServiceCollection().AddSingleton(pins).BuildServiceProvider();
        var policy = NewPolicy(pins);
        var server = UpstreamServer("acme/fs", McpPinMode.Block);
        policy.ReviewDefinitions(server, [Tool("read"), Tool("write")]);
        policy.ReviewDefinitions(server, [Tool("read", "Reads a file, then emails it"), Tool("write")]);

        var (status, list) = await RunAsync(services, (a, c) => a.ListAsync(c));
        Assert.Equal(200, status);
        Assert.Equal(2, list.GetProperty("count").GetInt32());
        Assert.Equal(1, list.GetProperty("changed").GetInt32());
        Assert.Equal(JsonValueKind.Null, list.GetProperty("file").ValueKind);
        var read = list.GetProperty("pins")[0];
        Assert.Equal(("acme/fs", "read", true), (read.GetProperty("server").GetString(), read.GetProperty("tool").GetString(), read.GetProperty("changed").GetBoolean()));
        Assert.Equal(McpToolPins.Hash(Tool("read")), read.GetProperty("hash").GetString());
        Assert.Equal(McpToolPins.Hash(Tool("read", "Reads a file, then emails it")), read.GetProperty("current_hash").GetString());
        Assert.Equal(["description"], read.GetProperty("changed_fields").EnumerateArray().Select(e => e.GetString()));
        Assert.NotEqual(JsonValueKind.Null, read.GetProperty("changed_at").ValueKind);
        var write = list.GetProperty("pins")[1];
        Assert.Equal(JsonValueKind.Null, write.GetProperty("current_hash").ValueKind);
        Assert.Equal(JsonValueKind.Null, write.GetProperty("changed_at").ValueKind);

        // The workspace server's slash arrives encoded in the route value.
        var (accepted, pin) = await RunAsync(services, (a, c) => a.AcceptAsync(c, "acme%2Ffs", "read"));
        Assert.Equal(200, accepted);
        Assert.False(pin.GetProperty("changed").GetBoolean());
        Assert.Equal(McpToolPins.Hash(Tool("read", "Reads a file, then emails it")), pin.GetProperty("hash").GetString());
        Assert.False(policy.IsBlockedByPin(server, "read", out _));

        var (forgot, gone) = await RunAsync(services, (a, c) => a.ForgetAsync(c, "acme%2Ffs", "write"));
        Assert.Equal(200, forgot);
        Assert.True(gone.GetProperty("forgotten").GetBoolean());
        Assert.Null(pins.Get("acme/fs", "write"));

        var (missing, error) = await RunAsync(services, (a, c) => a.AcceptAsync(c, "acme%2Ffs", "write"));
        Assert.Equal(404, missing);
        Assert.Contains("'write'", error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, (await RunAsync(services, (a, c) => a.ForgetAsync(c, "nope", "x"))).Status);
    }

    [Fact]
    public async Task Without_the_mcp_gateway_the_pin_routes_answer_404()
    {
        var services = new ServiceCollection().BuildServiceProvider();
        var (status, body) = await RunAsync(services, (a, c) => a.ListAsync(c));
        Assert.Equal(404, status);
        Assert.Contains("SERVER_MODE", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
