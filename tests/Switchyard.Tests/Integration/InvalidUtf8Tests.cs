using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>A body that is not UTF-8 is the client's mistake: a 400 that says where, never a 500, and nothing sent upstream.</summary>
public sealed class InvalidUtf8Tests
{
    private static HttpRequestMessage Raw(string path, byte[] body, Uri upstream)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return TestGateway.With(request, Requests.HeaderMode(upstream));
    }

    private static byte[] Body(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    [InlineData("/v1/embeddings")]
    [InlineData("/v1/responses")]
    [InlineData("/v1/moderations")]
    public async Task Invalid_utf8_in_a_json_body_is_400_in_portkey_shape_with_the_offset(string path)
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        const string Before = "{\"model\":\"gpt-4o-mini\",\"input\":\"x\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"caf";
        (byte[] Body, int Offset)[] cases =
        [
            (Body(Before, [0xC3, 0x28], "\"}]}"), Before.Length),
            (Body(Before, [0xFF], "\"}]}"), Before.Length),
        ];
        foreach (var (body, offset) in cases)
        {
            var response = await gw.SendAsync(Raw(path, body, sim.BaseUrl));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {text}");
            var json = await response.JsonAsync();
            Assert.Equal("failure", json.GetProperty("status").GetString());
            var message = json.GetProperty("message").GetString()!;
            Assert.Contains("not valid UTF-8", message);
            Assert.Contains($"byte offset {offset}", message);
        }

        // A body cut in the middle of a multi-byte character.
        var truncated = await gw.SendAsync(Raw(path, Body("{\"model\":\"gpt-4o-mini\",\"messages\":\"", [0xE2, 0x82], ""), sim.BaseUrl));
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Contains("ends inside a multi-byte sequence", (await truncated.JsonAsync()).GetProperty("message").GetString());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task Invalid_utf8_on_the_messages_route_is_400_in_anthropic_shape()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(Raw("/v1/messages", Body("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"", [0xC3, 0x28], "\"}]}"), sim.BaseUrl));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Contains("not valid UTF-8", error.GetProperty("message").GetString());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task A_valid_body_with_multibyte_text_still_reaches_the_provider_unchanged()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"café € 𝄞 日本\"}]}");
        var response = await gw.SendAsync(Raw("/v1/chat/completions", body, sim.BaseUrl));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, sim.Requests.Single().Body);
    }
}
