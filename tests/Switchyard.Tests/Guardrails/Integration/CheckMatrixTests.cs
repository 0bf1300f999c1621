using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Guardrails.Integration;

/// <summary>
/// Every verdict-giving check through the gateway: a passing and a failing request, with <c>deny</c> (200 / 446 with
/// Portkey's body), without it (200 / 246 with the answer and <c>hook_results</c>), and inverted by <c>not</c>. Output
/// checks see the simulator's answer, which is <c>echo: </c> plus the request's text.
/// </summary>
public sealed class CheckMatrixTests
{
    public sealed record Send(string Text, string Model = "gpt-4o-mini", string? Metadata = null);

    public static TheoryData<string, string, bool, Send, Send> Cases => new()
    {
        { "default.regexMatch", """{"rule":"\\d{4}"}""", false, new("order 1234"), new("order abc") },
        { "default.sentenceCount", """{"minSentences":1,"maxSentences":2}""", false, new("One. Two."), new("no sentence end") },
        { "default.wordCount", """{"minWords":1,"maxWords":3}""", false, new("one two"), new("one two three four five") },
        { "default.characterCount", """{"minCharacters":1,"maxCharacters":10}""", false, new("short"), new("this is far too long") },
        { "default.contains", """{"words":["hello"],"operator":"any"}""", false, new("hello world"), new("goodbye") },
        { "default.alluppercase", "{}", false, new("HELLO THERE"), new("Hello there") },
        { "default.alllowercase", "{}", false, new("hello there"), new("Hello There") },
        { "default.endsWith", """{"suffix":"done"}""", false, new("all done"), new("not yet") },
        { "default.modelWhitelist", """{"models":["gpt-4o-mini"]}""", false, new("hi", "gpt-4o-mini"), new("hi", "gpt-4o") },
        { "default.modelRules", """{"rules":{"defaults":["gpt-4o-mini"],"metadata":{"plan":{"paid":["gpt-4o"]}}}}""", false,
            new("hi", "gpt-4o", """{"plan":"paid"}"""), new("hi", "gpt-4o", """{"plan":"free"}""") },
        { "default.requiredMetadataKeys", """{"metadataKeys":["team"],"operator":"all"}""", false, new("hi", Metadata: """{"team":"a"}"""), new("hi") },
        { "default.allowedRequestTypes", "{}", false,
            new("hi", Metadata: """{"supported_endpoints":"chatComplete"}"""), new("hi", Metadata: """{"supported_endpoints":"embed"}""") },
        { "default.pii", """{"redact":false}""", false, new("nothing personal"), new("mail jane@example.org") },
        { "default.jsonSchema", """{"schema":{"type":"object","required":["a"]}}""", true, new("""{"a":1}"""), new("""{"b":1}""") },
        { "default.jsonKeys", """{"keys":["a"],"operator":"all"}""", true, new("""{"a":1}"""), new("""{"b":1}""") },
        { "default.containsCode", """{"format":"Python"}""", true, new("```py\nprint(1)\n```"), new("no code here") },
        { "default.contains", """{"words":["echo: hello"],"operator":"all"}""", true, new("hello"), new("bye") },
        { "default.wordCount", """{"minWords":1,"maxWords":3}""", true, new("two words"), new("far too many words for this") },
    };

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gw, string config, Send send)
    {
        (string, string)[] headers = send.Metadata is null
            ? [("x-portkey-config", config)]
            : [("x-portkey-config", config), ("x-portkey-metadata", send.Metadata)];
        return await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(send.Text, model: send.Model), headers));
    }

    private static string Config(Uri upstream, string check, string parameters, bool output, bool deny, bool not)
    {
        var p = not ? parameters[..^1] + (parameters.Length > 2 ? "," : "") + "\"not\":true}" : parameters;
        var side = output ? "output_guardrails" : "input_guardrails";
        return Requests.Target(upstream, extra: $"\"{side}\":[{{\"{check}\":{p},\"deny\":{(deny ? "true" : "false")}}}]");
    }

    private static async Task AssertPassedAsync(HttpResponseMessage response, bool output)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.GetRawText());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var hooks = body.GetProperty("hook_results").GetProperty(output ? "after_request_hooks" : "before_request_hooks");
        Assert.True(hooks[0].GetProperty("verdict").GetBoolean(), body.GetRawText());
    }

    private static async Task AssertDeniedAsync(HttpResponseMessage response, bool output)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == (HttpStatusCode)446, body.GetRawText());
        Assert.Equal(GuardrailGatewayTests.DeniedMessage, body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("hooks_failed", body.GetProperty("error").GetProperty("type").GetString());
        Assert.False(body.TryGetProperty("choices", out _));
        var results = body.GetProperty("hook_results");
        var hook = results.GetProperty(output ? "after_request_hooks" : "before_request_hooks")[0];
        Assert.False(hook.GetProperty("verdict").GetBoolean());
        Assert.True(hook.GetProperty("deny").GetBoolean());
        if (!output)
        {
            Assert.Equal(0, results.GetProperty("after_request_hooks").GetArrayLength());
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_check_passes_fails_denies_warns_and_inverts(string check, string parameters, bool output, Send pass, Send fail)
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();

        var deny = Config(sim.BaseUrl, check, parameters, output, deny: true, not: false);
        await AssertPassedAsync(await SendAsync(gw, deny, pass), output);
        var before = sim.Requests.Count;
        await AssertDeniedAsync(await SendAsync(gw, deny, fail), output);
        // A denied input never reaches the provider; a denied output did.
        Assert.Equal(output ? before + 1 : before, sim.Requests.Count);

        // Without deny the failure is reported, not enforced: 246 with the provider's answer.
        var warn = Config(sim.BaseUrl, check, parameters, output, deny: false, not: false);
        var warned = await SendAsync(gw, warn, fail);
        var warnedBody = await warned.JsonAsync();
        Assert.True(warned.StatusCode == (HttpStatusCode)246, warnedBody.GetRawText());
        Assert.StartsWith("echo: ", warnedBody.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var warnHook = warnedBody.GetProperty("hook_results").GetProperty(output ? "after_request_hooks" : "before_request_hooks")[0];
        Assert.False(warnHook.GetProperty("verdict").GetBoolean());
        Assert.False(warnHook.GetProperty("deny").GetBoolean());

        // not: true inverts the verdict.
        var inverted = Config(sim.BaseUrl, check, parameters, output, deny: true, not: true);
        await AssertDeniedAsync(await SendAsync(gw, inverted, pass), output);
        await AssertPassedAsync(await SendAsync(gw, inverted, fail), output);
    }
}
