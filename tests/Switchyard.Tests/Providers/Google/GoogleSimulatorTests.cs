using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>The simulator rejects what the Gemini API rejects, with Google's status and error body.</summary>
public sealed class GoogleSimulatorTests
{
    private static async Task<(int Status, JsonElement Body)> PostAsync(GoogleSimulator sim, string body)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, sim.BaseUrl + "/v1beta/models/gemini-2.5-flash:generateContent")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-api-key", sim.ApiKey);
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Theory]
    [InlineData("""{"contents":[]}""", "contents is not specified")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"foo":1}""", "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.")]
    [InlineData("""{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}""", "Please use a valid role: user, model.")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x","cache_control":{}}]}]}""", "Unknown name \"cache_control\" at 'contents[0].parts[0]': Cannot find field.")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}""", "Please ensure that function response turn comes immediately after a function call turn.")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}}}]}]}""",
        "Invalid JSON payload received. Unknown name \"additionalProperties\" at 'tools[0].function_declarations[0].parameters': Cannot find field.")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string","$schema":"x"}}}}]}]}""",
        "Unknown name \"$schema\" at 'tools[0].function_declarations[0].parameters.properties[0].value'")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["a","b","c","d","e","f"]}}""", "at most 5")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"topP":1.5}}""", "top_p must be in the range [0, 1]")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseSchema":{"type":"object","properties":{"a":{"type":"string"}}}}}""", "response_mime_type must be application/json")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":10,"budget":1}}}""", "Unknown name \"budget\" at 'generation_config.thinking_config'")]
    public async Task Invalid_requests_get_400_invalid_argument(string body, string message)
    {
        await using var sim = await GoogleSimulator.StartAsync();
        var (status, json) = await PostAsync(sim, body);
        Assert.Equal(400, status);
        Assert.Equal(400, json.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("INVALID_ARGUMENT", json.GetProperty("error").GetProperty("status").GetString());
        Assert.Contains(message, json.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Snake_case_field_names_are_accepted_like_proto_json()
    {
        await using var sim = await GoogleSimulator.StartAsync();
        var (status, json) = await PostAsync(sim, """{"contents":[{"role":"user","parts":[{"text":"hi you"}]}],"system_instruction":{"parts":[{"text":"s"}]},"generation_config":{"max_output_tokens":5}}""");
        Assert.Equal(200, status);
        Assert.Equal("echo: hi you", json.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal(3, json.GetProperty("usageMetadata").GetProperty("promptTokenCount").GetInt32());
    }

    [Fact]
    public async Task Parallel_function_calls_stream_as_whole_calls_with_their_own_indexes()
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(new GeminiReply { FunctionCalls = [("a", """{"x":1}"""), ("b", """{"y":[1,2]}""")] });
        var body = GoogleHarness.Chat("two calls", stream: true);
        body["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]""");
        var chunks = await h.StreamAsync("google", body);
        var deltas = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta")).Where(d => d.TryGetProperty("tool_calls", out _))
            .SelectMany(d => d.GetProperty("tool_calls").EnumerateArray()).ToList();
        Assert.Equal(2, deltas.Count);
        Assert.Equal([0, 1], deltas.Select(d => d.GetProperty("index").GetInt32()));
        Assert.Equal(["a", "b"], deltas.Select(d => d.GetProperty("function").GetProperty("name").GetString()));
        Assert.Equal("""{"x":1}""", GeminiChatTests.Reassemble(deltas.Where(d => d.GetProperty("index").GetInt32() == 0)));
        Assert.Equal("""{"y":[1,2]}""", GeminiChatTests.Reassemble(deltas.Where(d => d.GetProperty("index").GetInt32() == 1)));
        Assert.NotEqual(deltas[0].GetProperty("id").GetString(), deltas[1].GetProperty("id").GetString());
        Assert.Equal("tool_calls", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        h.Upstream("google", stream: true);
    }

    [Fact]
    public async Task Too_many_stop_sequences_are_relayed_as_gemini_400()
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("x");
        body["stop"] = new JsonArray("1", "2", "3", "4", "5", "6");
        var response = await h.ChatAsync("google", body);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("at most 5", (await response.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(6, GoogleHarness.BodyOf(h.Upstream("google", stream: false))["generationConfig"]!["stopSequences"]!.AsArray().Count);
    }
}
