using System.Text.Json;
using Switchyard.Core.Providers.Bedrock;
using Switchyard.Tests.Infrastructure;
using Xunit;
namespace Switchyard.Tests.Providers.Bedrock;
public sealed class ScratchDebug
{
    [Fact]
    public async Task Debug()
    {
        await using var h = await BedrockHarness.StartAsync();
        var r = await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", JsonSerializer.Serialize(new { model = BedrockHarness.Model, stream = true, messages = new[] { new { role = "user", content = "hi" } } }), BedrockHarness.Headers()), HttpCompletionOption.ResponseHeadersRead);
        var sb = new System.Text.StringBuilder();
        var s = await r.Content.ReadAsStreamAsync();
        var buf = new byte[100000];
        try { int n; while ((n = await s.ReadAsync(buf)) > 0) sb.Append(System.Text.Encoding.UTF8.GetString(buf, 0, n)); } catch (Exception e) { sb.Append("EXC " + e.Message); }
        await Task.Delay(300);
        var q = h.Sim.Requests[0];
        Assert.Fail($"{q.Path} {q.StatusCode} {q.EventsSent} {q.Aborted} {q.BodyText} {string.Join(";", q.Headers.Select(kv => kv.Key + "=" + kv.Value))}\n{sb}");
    }
}
