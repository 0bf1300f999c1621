using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Proxy;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Mcp.Proxy;

public sealed class McpAggregationTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData(null)]
    public async Task A_virtual_server_prefixes_names_and_fails_open_when_a_member_dies(string? version)
    {
        await using var alpha = await McpFixtures.StartEverythingHttpAsync();
        var beta = await McpFixtures.StartEverythingHttpAsync();
        try
        {
            var registry = McpProxyHost.RegistryOf(
                [McpProxyHost.HttpServer("alpha", alpha), McpProxyHost.HttpServer("beta", beta)],
                [new McpVirtualServer { Name = "dev", Servers = ["alpha", "beta"] }]);
            await using var host = await McpProxyHost.StartAsync(registry);
            await using var client = await host.ConnectAsync("v/dev", version, ct: Timeout());

            var tools = await client.ListToolsAsync(cancellationToken: Timeout());
            Assert.Equal(26, tools.Count);
            Assert.Contains(tools, t => t.Name == "alpha__echo");
            Assert.Contains(tools, t => t.Name == "beta__echo");
            Assert.All(tools, t => Assert.True(t.Name.StartsWith("alpha__", StringComparison.Ordinal) || t.Name.StartsWith("beta__", StringComparison.Ordinal)));
            var echo = await client.CallToolAsync("beta__echo", new Dictionary<string, object?> { ["message"] = "to beta" }, cancellationToken: Timeout());
            Assert.Contains("to beta", string.Concat(echo.Content.OfType<TextContentBlock>().Select(t => t.Text)));

            var resources = await client.ListResourcesAsync(cancellationToken: Timeout());
            var betaResource = resources.First(r => r.Uri.StartsWith("beta+", StringComparison.Ordinal));
            var read = await client.ReadResourceAsync(betaResource.Uri, cancellationToken: Timeout());
            Assert.Equal(betaResource.Uri, read.Contents[0].Uri);

            await beta.DisposeAsync();

            var raw = await client.ListToolsAsync(new ListToolsRequestParams(), Timeout());
            Assert.Equal(13, raw.Tools.Count);
            Assert.All(raw.Tools, t => Assert.StartsWith("alpha__", t.Name));
            Assert.Equal("beta", raw.Meta?[McpProxySession.UnavailableMetaKey]?[0]?.GetValue<string>());
            var error = await Assert.ThrowsAsync<McpProtocolException>(() =>
                client.CallToolAsync("beta__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout()).AsTask());
            Assert.Contains("beta", error.Message);
            var still = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "alive" }, cancellationToken: Timeout());
            Assert.Contains("alive", string.Concat(still.Content.OfType<TextContentBlock>().Select(t => t.Text)));
            Assert.True(host.Services.GetRequiredService<McpProxy>().UpstreamsLeftOut > 0);
        }
        finally
        {
            await beta.DisposeAsync();
        }
    }

    [Fact]
    public void Composite_cursors_round_trip_and_reject_foreign_tokens()
    {
        var token = McpCompositeCursor.Encode(new Dictionary<string, string> { ["a"] = "c1", ["b/x"] = "c2" })!;
        var decoded = McpCompositeCursor.Decode(token);
        Assert.Equal("c1", decoded["a"]);
        Assert.Equal("c2", decoded["b/x"]);
        Assert.Null(McpCompositeCursor.Encode(new Dictionary<string, string>()));
        Assert.Throws<McpProtocolException>(() => McpCompositeCursor.Decode("not-a-cursor!"));
        Assert.Throws<McpProtocolException>(() => McpCompositeCursor.Decode(Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode("[1]"u8.ToArray())));
    }

    [Fact]
    public async Task A_session_of_another_caller_or_route_is_not_found()
    {
        var server = new McpUpstreamServer { Id = "everything", Name = "everything", Url = new Uri("http://127.0.0.1:9/mcp") };
        var source = new StaticMcpRegistrySource(McpProxyHost.RegistryOf([server, server with { Id = "other", Name = "other" }]));
        var bindings = new McpSessionBindings();
        bindings.Add("s1", "everything", "key:alice");
        var step = new McpRouteResolution(source, bindings);

        async Task<int> RunAsync(string path, string caller)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Path = path;
            context.Request.Headers["Mcp-Session-Id"] = "s1";
            context.Response.Body = new MemoryStream();
            new McpCaller { Id = caller, Name = caller }.AttachTo(context);
            var reached = false;
            await step.InvokeAsync(context, _ => { reached = true; return Task.CompletedTask; });
            return reached ? 200 : context.Response.StatusCode;
        }

        Assert.Equal(200, await RunAsync("/everything/mcp", "key:alice"));
        Assert.Equal(404, await RunAsync("/everything/mcp", "key:bob"));
        Assert.Equal(404, await RunAsync("/other/mcp", "key:alice"));
    }
}
