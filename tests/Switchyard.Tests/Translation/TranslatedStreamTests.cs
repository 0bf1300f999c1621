using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>The translated stream pipeline itself: what a client sees when the upstream fails mid-stream.</summary>
public sealed class TranslatedStreamTests
{
    /// <summary>Emits one content chunk per feed, and fails on a feed containing "boom" after emitting that feed's chunk.</summary>
    private sealed class FailingDecoder : IChatStreamDecoder
    {
        public void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks)
        {
            var text = Encoding.UTF8.GetString(data);
            chunks.Add(new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "m",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text.Replace("boom", "") } }),
            });
            if (text.Contains("boom", StringComparison.Ordinal))
            {
                throw new TranslationException("upstream said boom", 502);
            }
        }

        public void Finish(List<JsonObject> chunks)
        {
        }
    }

    [Fact]
    public async Task Chunks_decoded_before_a_mid_stream_failure_reach_the_client_then_the_error_then_a_broken_connection()
    {
        var upstream = new MemoryStream(Encoding.UTF8.GetBytes("last words boom"));
        var call = new ChatCall
        {
            Request = new Switchyard.Core.Requests.GatewayRequest
            {
                Method = "POST", Endpoint = Switchyard.Core.Requests.EndpointKind.ChatComplete, Path = "/v1/chat/completions", UpstreamPath = "/chat/completions",
                Headers = new Switchyard.Core.Requests.HeaderBag(), Body = "{}"u8.ToArray(), ContentType = "application/json",
            },
            Target = null!,
            Body = new JsonObject { ["model"] = "m", ["stream"] = true },
            Created = 1_700_000_000,
        };
        using var content = new TranslatedStreamContent(upstream, new FailingDecoder(), new ChatIngress().CreateStreamEncoder(call), new RequestContext("t", TimeProvider.System));
        var reader = await content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var buffer = new byte[64];
        var broken = await Assert.ThrowsAsync<IOException>(async () =>
        {
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        });
        Assert.Contains("boom", broken.Message);
        var text = Encoding.UTF8.GetString(received.ToArray());
        var lastWords = text.IndexOf("last words", StringComparison.Ordinal);
        var error = text.IndexOf("upstream said boom", StringComparison.Ordinal);
        Assert.True(lastWords >= 0, text);
        Assert.True(error > lastWords, text);
        Assert.DoesNotContain("[DONE]", text);
    }
}
