using System.Net;
using System.Text;
using System.Text.Json;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>
/// The real clients against the upstream fixtures directly (no gateway): proves the client harness and the fixtures, both eras.
/// The same calls go through the gateway in <see cref="GatewayClientTests"/>.
/// </summary>
public sealed class DirectClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Inspector015_Direct_ListsAndCallsServerEverything()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        var endpoint = new Uri(everything.BaseUrl, "/mcp");

        var list = await InspectorCli.RunV015Async(endpoint, "http", InspectorCli.ListTools);
        output.WriteLine(list.ToString());
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("echo", list.ToolNames());
        Assert.Contains("get-sum", list.ToolNames());

        var call = await InspectorCli.RunV015Async(endpoint, "http", InspectorCli.CallTool("get-sum", "a=2", "b=3"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("The sum of 2 and 3 is 5.", call.FirstText());
    }

    [Fact]
    public async Task Inspector015_Direct_CallsModernFixture_OverTheLegacyHandshake()
    {
        await using var modern = await McpModernFixture.StartAsync();
        var call = await InspectorCli.RunV015Async(new Uri(modern.BaseUrl, "/mcp"), "http", InspectorCli.CallTool("add", "a=2", "b=3"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("5", call.FirstText());
    }

    [Fact]
    public async Task Inspector015_Direct_CallsServerEverythingOverSse()
    {
        await using var sse = await McpFixtures.StartEverythingSseAsync();
        var call = await InspectorCli.RunV015Async(new Uri(sse.BaseUrl, "/sse"), "sse", InspectorCli.CallTool("echo", "message=via-sse"));
        output.WriteLine(call.ToString());
        Assert.Equal(0, call.ExitCode);
        Assert.Equal("Echo: via-sse", call.FirstText());
    }

    [Fact]
    public async Task Inspector2_Direct_CallsModernFixture_AndServerEverything()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var everything = await McpFixtures.StartEverythingHttpAsync();

        var add = await InspectorCli.RunV2Async(new Uri(modern.BaseUrl, "/mcp"), "http", null, InspectorCli.CallTool("add", "a=2", "b=40"));
        output.WriteLine(add.ToString());
        Assert.Equal(0, add.ExitCode);
        Assert.Equal("42", add.FirstText());

        var echo = await InspectorCli.RunV2Async(new Uri(everything.BaseUrl, "/mcp"), "http", null, InspectorCli.CallTool("echo", "message=hi"));
        output.WriteLine(echo.ToString());
        Assert.Equal(0, echo.ExitCode);
        Assert.Equal("Echo: hi", echo.FirstText());
    }

    [Fact]
    public async Task Inspector2_Direct_SendsItsHeaders_ToTheModernFixture()
    {
        var record = Path.Combine(Path.GetTempPath(), $"switchyard-headers-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var modern = await McpModernFixture.StartAsync(new McpModernFixtureOptions
            {
                RequireHeader = ("X-Api-Key", "fixture-secret"),
                RecordHeadersFile = record,
            });
            var endpoint = new Uri(modern.BaseUrl, "/mcp");

            var refused = await InspectorCli.RunV2Async(endpoint, "http", null, InspectorCli.ListTools);
            output.WriteLine(refused.ToString());
            Assert.NotEqual(0, refused.ExitCode);

            var list = await InspectorCli.RunV2Async(endpoint, "http", [("X-Api-Key", "fixture-secret")], InspectorCli.ListTools);
            output.WriteLine(list.ToString());
            Assert.Equal(0, list.ExitCode);
            Assert.Equal(["add", "echo", "describe"], list.ToolNames());

            var lines = File.ReadAllLines(record).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Contains(lines, l => l.GetProperty("headers").TryGetProperty("x-api-key", out var v) && v.GetString() == "fixture-secret");
        }
        finally
        {
            File.Delete(record);
        }
    }

    [Fact]
    public async Task CSharpClient_Default_NegotiatesModernEra_WithModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync(new McpModernFixtureOptions { ToolDescription = "pinned text v1" });
        await using var client = await McpClientFactory.ConnectAsync(new Uri(modern.BaseUrl, "/mcp"));
        output.WriteLine($"negotiated {client.NegotiatedProtocolVersion}");

        Assert.Equal(McpClientFactory.Modern, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync();
        Assert.Equal("pinned text v1", Assert.Single(tools, t => t.Name == "describe").Description);
        Assert.Equal("7", McpClientFactory.Text(await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 3, ["b"] = 4 })));
        Assert.Equal("Echo: from C#", McpClientFactory.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "from C#" })));
    }

    [Fact]
    public async Task CSharpClient_PinnedLegacy_UsesTheSessionEra_WithModernFixture()
    {
        await using var modern = await McpModernFixture.StartAsync();
        await using var client = await McpClientFactory.ConnectAsync(new Uri(modern.BaseUrl, "/mcp"), McpClientFactory.Legacy);
        output.WriteLine($"negotiated {client.NegotiatedProtocolVersion}");

        Assert.Equal(McpClientFactory.Legacy, client.NegotiatedProtocolVersion);
        Assert.Equal("5", McpClientFactory.Text(await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })));
    }

    [Fact]
    public async Task CSharpClient_Default_FallsBackToLegacy_WithServerEverything()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        await using var client = await McpClientFactory.ConnectAsync(new Uri(everything.BaseUrl, "/mcp"));
        output.WriteLine($"negotiated {client.NegotiatedProtocolVersion}");

        Assert.Equal(McpClientFactory.Legacy, client.NegotiatedProtocolVersion);
        Assert.Equal("Echo: from C#", McpClientFactory.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "from C#" })));
    }

    [Fact]
    public async Task ModernFixture_RequireHeader_Refuses401_AndRecordsHeaders()
    {
        var record = Path.Combine(Path.GetTempPath(), $"switchyard-headers-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var modern = await McpModernFixture.StartAsync(new McpModernFixtureOptions { RequireHeader = ("X-Api-Key", "k1"), RecordHeadersFile = record });
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            const string body = """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""";
            HttpRequestMessage Request(string? key)
            {
                var request = new HttpRequestMessage(HttpMethod.Post, new Uri(modern.BaseUrl, "/mcp")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
                request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
                request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/list");
                if (key is not null)
                {
                    request.Headers.TryAddWithoutValidation("X-Api-Key", key);
                }
                return request;
            }

            using (var missing = await http.SendAsync(Request(null)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            }
            using (var wrong = await http.SendAsync(Request("nope")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            }
            using var ok = await http.SendAsync(Request("k1"));
            var text = await ok.Content.ReadAsStringAsync();
            output.WriteLine(text);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Contains("\"describe\"", text, StringComparison.Ordinal);

            var lines = File.ReadAllLines(record);
            Assert.Equal(3, lines.Length);
            var last = JsonDocument.Parse(lines[^1]).RootElement;
            Assert.Equal("POST", last.GetProperty("method").GetString());
            Assert.Equal("/mcp", last.GetProperty("url").GetString());
            Assert.Equal("tools/list", last.GetProperty("headers").GetProperty("mcp-method").GetString());
            Assert.Equal("k1", last.GetProperty("headers").GetProperty("x-api-key").GetString());
        }
        finally
        {
            File.Delete(record);
        }
    }
}
