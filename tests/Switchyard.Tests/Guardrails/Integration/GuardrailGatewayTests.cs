using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Xunit;

namespace Switchyard.Tests.Guardrails.Integration;

/// <summary>Guardrails through the real gateway against the simulator: statuses, bodies, retries, fallbacks, inheritance, headers.</summary>
public sealed class GuardrailGatewayTests
{
    internal const string DeniedMessage = "The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.";

    internal static Task<HttpResponseMessage> Chat(TestGateway gw, string config, string text = "hello there", bool stream = false,
        params (string, string)[] headers) =>
        gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(text, stream: stream), [("x-portkey-config", config), .. headers]));

    private static JsonElement Hook(JsonElement body, string side, int i = 0) => body.GetProperty("hook_results").GetProperty(side)[i];

    [Theory]
    [InlineData("{\"default.regexMatch\":{\"rule\":\"\\\\d{4}\"}}", "order 1234", "order abc")]
    [InlineData("{\"default.regexMatch\":{\"rule\":\"\\\\d{4}\",\"not\":true}}", "order abc", "order 1234")]
    [InlineData("{\"default.contains\":{\"words\":[\"password\"],\"operator\":\"none\"}}", "hello there", "my password is x")]
    [InlineData("{\"default.contains\":{\"words\":[\"password\"],\"operator\":\"none\",\"not\":true}}", "my password is x", "hello there")]
    [InlineData("{\"default.wordCount\":{\"minWords\":1,\"maxWords\":3}}", "one two", "one two three four five")]
    [InlineData("{\"default.modelWhitelist\":{\"models\":[\"gpt-4o-mini\"]}}", null, null)]
    [InlineData("{\"default.pii\":{\"redact\":false}}", "nothing personal", "mail jane@example.org")]
    [InlineData("{\"default.pii\":{\"redact\":false,\"not\":true}}", "mail jane@example.org", "nothing personal")]
    public async Task Input_checks_pass_with_200_and_fail_with_446_when_denying(string check, string? passing, string? failing)
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: $"\"input_guardrails\":[{check[..^1]},\"deny\":true}}]");
        if (passing is null)
        {
            // modelWhitelist: the model decides.
            var ok = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o-mini"), ("x-portkey-config", config)));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var no = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o"), ("x-portkey-config", config)));
            Assert.Equal((HttpStatusCode)446, no.StatusCode);
            Assert.Single(sim.Requests);
            return;
        }
        var pass = await Chat(gw, config, passing);
        Assert.Equal(HttpStatusCode.OK, pass.StatusCode);
        var passBody = await pass.JsonAsync();
        Assert.True(Hook(passBody, "before_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.Equal("chat.completion", passBody.GetProperty("object").GetString());

        var fail = await Chat(gw, config, failing!);
        Assert.Equal((HttpStatusCode)446, fail.StatusCode);
        var failBody = await fail.JsonAsync();
        Assert.False(Hook(failBody, "before_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task A_denial_before_the_request_is_Portkeys_exact_446_body_and_nothing_reaches_the_provider()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"id\":\"no-digits\",\"default.regexMatch\":{\"rule\":\"\\\\d\",\"not\":true},\"deny\":true}]");
        var response = await Chat(gw, config, "card 4111");
        Assert.Equal((HttpStatusCode)446, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"error\":{\"message\":\"" + DeniedMessage + "\",\"type\":\"hooks_failed\",\"param\":null,\"code\":null},\"hook_results\":{\"before_request_hooks\":[{\"id\":\"no-digits\",\"type\":\"guardrail\",\"verdict\":false,\"deny\":true,", text);
        Assert.EndsWith("],\"after_request_hooks\":[]}}", text);
        var body = JsonDocument.Parse(text).RootElement;
        var hook = Hook(body, "before_request_hooks");
        Assert.Equal("default.regexMatch", hook.GetProperty("checks")[0].GetProperty("id").GetString());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task A_failed_check_without_deny_answers_246_with_the_body_and_hook_results()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"default.contains\":{\"words\":[\"secret\"],\"operator\":\"none\"}}],"
            + "\"output_guardrails\":[{\"default.wordCount\":{\"minWords\":1,\"maxWords\":50}}]");
        var response = await Chat(gw, config, "the secret word");
        Assert.Equal((HttpStatusCode)246, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("echo: the secret word", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.False(Hook(body, "before_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.False(Hook(body, "before_request_hooks").GetProperty("deny").GetBoolean());
        Assert.True(Hook(body, "after_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task An_output_denial_is_446_with_both_result_arrays()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"default.wordCount\":{\"minWords\":1,\"maxWords\":50}}],"
            + "\"output_guardrails\":[{\"default.contains\":{\"words\":[\"banana\"],\"operator\":\"none\"},\"deny\":true}]");
        var response = await Chat(gw, config, "I like banana");
        Assert.Equal((HttpStatusCode)446, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(DeniedMessage, body.GetProperty("error").GetProperty("message").GetString());
        Assert.True(Hook(body, "before_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.False(Hook(body, "after_request_hooks").GetProperty("verdict").GetBoolean());
        Assert.False(body.TryGetProperty("choices", out _));
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task Output_json_schema_and_required_metadata_keys_are_checked()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra:
            "\"input_guardrails\":[{\"default.requiredMetadataKeys\":{\"metadataKeys\":[\"team\"],\"operator\":\"all\"},\"deny\":true}],"
            + "\"output_guardrails\":[{\"default.jsonSchema\":{\"schema\":{\"type\":\"object\",\"required\":[\"a\"]}}}]");
        var noMeta = await Chat(gw, config, "{\"a\":1}");
        Assert.Equal((HttpStatusCode)446, noMeta.StatusCode);

        var meta = ("x-portkey-metadata", "{\"team\":\"core\"}");
        var good = await Chat(gw, config, "{\"a\":1}", headers: meta);
        // The echo is "echo: {…}": jsonSchema finds the JSON inside the text.
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var bad = await Chat(gw, config, "{\"b\":1}", headers: meta);
        Assert.Equal((HttpStatusCode)246, bad.StatusCode);
        Assert.False(Hook(await bad.JsonAsync(), "after_request_hooks").GetProperty("verdict").GetBoolean());
    }

    [Fact]
    public async Task A_446_falls_back_to_the_next_target()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"strategy\":{\"mode\":\"fallback\"},\"targets\":["
            + Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"default.contains\":{\"words\":[\"echo\"],\"operator\":\"none\"},\"deny\":true}]") + ","
            + Requests.Target(sim.BaseUrl) + "]}";
        var response = await Chat(gw, config);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("config.targets[1]", response.Header("x-portkey-last-used-option-index"));
        Assert.False((await response.JsonAsync()).TryGetProperty("hook_results", out _));
        Assert.Equal(2, sim.Requests.Count);

        // With on_status_codes that do not list 446, the denial is the answer.
        var strict = config.Replace("\"mode\":\"fallback\"", "\"mode\":\"fallback\",\"on_status_codes\":[500]");
        var denied = await Chat(gw, strict);
        Assert.Equal((HttpStatusCode)446, denied.StatusCode);
        Assert.Equal("config.targets[0]", denied.Header("x-portkey-last-used-option-index"));
    }

    [Fact]
    public async Task A_446_in_retry_on_status_codes_retries_and_after_results_are_reset()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"retry\":{\"attempts\":2,\"on_status_codes\":[446]},"
            + "\"output_guardrails\":[{\"id\":\"out\",\"default.regexMatch\":{\"rule\":\"^echo\"},\"deny\":true}]");
        // Denied every time: retried twice, then the 446 is the answer.
        sim.ClearRequests();
        var denied = await Chat(gw, config.Replace("^echo", "^nope"));
        Assert.Equal((HttpStatusCode)446, denied.StatusCode);
        Assert.Equal(3, sim.Requests.Count);
        Assert.Equal("-1", denied.Header("x-portkey-retry-attempt-count"));
        var body = await denied.JsonAsync();
        Assert.Equal(1, body.GetProperty("hook_results").GetProperty("after_request_hooks").GetArrayLength());

        // A first attempt that fails upstream (503, retried by the same list) then one that passes the check.
        sim.ClearRequests();
        sim.FailNext(1, 503);
        var retried = await Chat(gw, config.Replace("[446]", "[446,503]"));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("1", retried.Header("x-portkey-retry-attempt-count"));
        var ok = await retried.JsonAsync();
        var after = ok.GetProperty("hook_results").GetProperty("after_request_hooks");
        Assert.Equal(1, after.GetArrayLength());
        Assert.True(after[0].GetProperty("verdict").GetBoolean());
        Assert.Equal(2, sim.Requests.Count);
    }

    [Fact]
    public async Task A_child_with_its_own_hooks_replaces_the_inherited_ones_and_a_child_without_inherits_them()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var parent = "\"input_guardrails\":[{\"id\":\"parent\",\"default.contains\":{\"words\":[\"blocked\"],\"operator\":\"none\"},\"deny\":true}],";
        var child = "\"input_guardrails\":[{\"id\":\"child\",\"default.wordCount\":{\"minWords\":1,\"maxWords\":100}}]";
        var overriding = "{" + parent + "\"strategy\":{\"mode\":\"single\"},\"targets\":[" + Requests.Target(sim.BaseUrl, extra: child) + "]}";
        var response = await Chat(gw, overriding, "blocked word");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.JsonAsync()).GetProperty("hook_results").GetProperty("before_request_hooks");
        Assert.Equal(1, results.GetArrayLength());
        Assert.Equal("child", results[0].GetProperty("id").GetString());

        var inheriting = "{" + parent + "\"strategy\":{\"mode\":\"single\"},\"targets\":[" + Requests.Target(sim.BaseUrl) + "]}";
        var denied = await Chat(gw, inheriting, "blocked word");
        Assert.Equal((HttpStatusCode)446, denied.StatusCode);
        Assert.Equal("parent", Hook(await denied.JsonAsync(), "before_request_hooks").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Full_form_and_shorthand_hooks_of_one_node_run_together_in_order()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra:
            "\"before_request_hooks\":[{\"type\":\"guardrail\",\"id\":\"full\",\"checks\":[{\"id\":\"default.wordCount\",\"parameters\":{\"minWords\":1,\"maxWords\":9}}]}],"
            + "\"input_guardrails\":[{\"id\":\"short\",\"default.contains\":{\"words\":[\"x\"],\"operator\":\"none\"}}]");
        var body = await (await Chat(gw, config)).JsonAsync();
        var results = body.GetProperty("hook_results").GetProperty("before_request_hooks");
        Assert.Equal(["full", "short"], results.EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray());
    }

    [Fact]
    public async Task Default_guardrail_headers_apply_to_every_leaf_after_its_own_hooks()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"id\":\"own\",\"default.wordCount\":{\"minWords\":1,\"maxWords\":100}}]");
        var input = ("x-portkey-default-input-guardrails", "[{\"id\":\"dflt\",\"default.contains\":{\"words\":[\"forbidden\"],\"operator\":\"none\"},\"deny\":true}]");
        var output = ("x-portkey-default-output-guardrails", "[{\"id\":\"dout\",\"default.wordCount\":{\"minWords\":1,\"maxWords\":100}}]");
        var ok = await Chat(gw, config, "fine text", headers: [input, output]);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var body = await ok.JsonAsync();
        Assert.Equal(["own", "dflt"], body.GetProperty("hook_results").GetProperty("before_request_hooks").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("dout", Hook(body, "after_request_hooks").GetProperty("id").GetString());

        var denied = await Chat(gw, config, "forbidden text", headers: [input]);
        Assert.Equal((HttpStatusCode)446, denied.StatusCode);

        var malformed = await Chat(gw, config, "x", headers: [("x-portkey-default-input-guardrails", "{not json")]);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("x-portkey-default-input-guardrails", await malformed.Content.ReadAsStringAsync());
        var badCheck = await Chat(gw, config, "x", headers: [("x-portkey-default-output-guardrails", "[{\"default.nope\":{}}]")]);
        Assert.Equal(HttpStatusCode.BadRequest, badCheck.StatusCode);
        Assert.Contains("x-portkey-default-output-guardrails", await badCheck.Content.ReadAsStringAsync());
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task Default_guardrail_keys_in_a_config_are_refused_as_headers_in_Portkeys_gateway()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"provider\":\"openai\",\"api_key\":\"k\",\"default_input_guardrails\":[{\"default.wordCount\":{\"minWords\":1}}]}";
        var response = await Chat(gw, config);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("x-portkey-default-input-guardrails", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Hook_results_are_in_the_request_log_and_async_hooks_are_logged_after_the_answer()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra:
            "\"input_guardrails\":[{\"id\":\"sync-in\",\"default.wordCount\":{\"minWords\":1,\"maxWords\":100}},{\"id\":\"async-in\",\"async\":true,\"default.contains\":{\"words\":[\"hello\"],\"operator\":\"any\"}}],"
            + "\"output_guardrails\":[{\"id\":\"async-out\",\"async\":true,\"default.contains\":{\"words\":[\"zebra\"],\"operator\":\"any\"}}]");
        var response = await Chat(gw, config);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        // The answer carries only the sync results.
        Assert.Equal(1, body.GetProperty("hook_results").GetProperty("before_request_hooks").GetArrayLength());
        Assert.Equal(0, body.GetProperty("hook_results").GetProperty("after_request_hooks").GetArrayLength());

        var record = (await RequestLogTests.RecordsAsync(gw, 1)).Single();
        var logged = record.GetProperty("hook_results");
        var before = logged.GetProperty("before_request_hooks");
        Assert.Equal(["sync-in", "async-in"], before.EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray());
        Assert.True(before[1].GetProperty("async").GetBoolean());
        Assert.True(before[1].GetProperty("verdict").GetBoolean());
        var after = logged.GetProperty("after_request_hooks");
        Assert.Equal("async-out", after[0].GetProperty("id").GetString());
        Assert.False(after[0].GetProperty("verdict").GetBoolean());
    }

    [Fact]
    public async Task The_cache_stores_the_providers_answer_without_hook_results_and_never_an_answer_that_failed_a_hook()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"cache\":{\"mode\":\"simple\"},"
            + "\"output_guardrails\":[{\"default.contains\":{\"words\":[\"failing\"],\"operator\":\"none\"}}]");
        var first = await Chat(gw, config, "cache me");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True((await first.JsonAsync()).TryGetProperty("hook_results", out _));
        var hit = await Chat(gw, config, "cache me");
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        var hitBody = await hit.JsonAsync();
        Assert.False(hitBody.TryGetProperty("hook_results", out _));
        Assert.Equal("echo: cache me", hitBody.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        var failed = await Chat(gw, config, "failing answer");
        Assert.Equal((HttpStatusCode)246, failed.StatusCode);
        var again = await Chat(gw, config, "failing answer");
        Assert.Equal((HttpStatusCode)246, again.StatusCode);
        Assert.NotEqual("HIT", again.Header("x-portkey-cache-status"));
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task An_input_pii_redaction_is_what_reaches_the_provider()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"default.pii\":{}}]");
        var response = await Chat(gw, config, "mail jane@example.org today");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("echo: mail [EMAIL] today", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(Hook(body, "before_request_hooks").GetProperty("transformed").GetBoolean());
        Assert.DoesNotContain("jane@example.org", sim.Requests.Single().BodyText);
    }
}
