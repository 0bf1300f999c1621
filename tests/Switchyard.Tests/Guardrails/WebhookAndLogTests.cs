using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Requests;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class WebhookAndLogTests : IAsyncLifetime
{
    private const HookEvent Before = HookEvent.BeforeRequest;
    private const HookEvent After = HookEvent.AfterRequest;
    private LoopbackServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(async (ctx, body) =>
        {
            switch (ctx.Request.Path.Value)
            {
                case "/ok":
                    await Json(ctx, """{"verdict":true,"data":{"reason":"fine"}}""");
                    break;
                case "/deny":
                    await Json(ctx, """{"verdict":false,"data":{"reason":"nope"}}""");
                    break;
                case "/transform":
                {
                    var context = JsonNode.Parse(body)!;
                    var side = Str(context["eventType"]) == "beforeRequestHook" ? "request" : "response";
                    var json = context[side]!["json"]!.DeepClone();
                    if (side == "request") json["messages"]![json["messages"]!.AsArray().Count - 1]!["content"] = "rewritten by webhook";
                    else json["choices"]![0]!["message"]!["content"] = "answer rewritten";
                    var answer = new JsonObject { ["verdict"] = true, ["transformedData"] = new JsonObject { [side] = new JsonObject { ["json"] = json } } };
                    await Json(ctx, answer.ToJsonString());
                    break;
                }
                case "/late":
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    await Json(ctx, """{"verdict":true}""");
                    break;
                case "/garbage":
                    ctx.Response.ContentType = "text/plain";
                    await ctx.Response.WriteAsync("<html>not json</html>");
                    break;
                case "/no-verdict":
                    await Json(ctx, """{"data":{"x":1}}""");
                    break;
                case "/error":
                    ctx.Response.StatusCode = 503;
                    await Json(ctx, """{"message":"down for maintenance"}""");
                    break;
                case "/redirect":
                    ctx.Response.StatusCode = 307;
                    ctx.Response.Headers.Location = "http://169.254.169.254/latest/meta-data";
                    break;
                default:
                    ctx.Response.StatusCode = 200;
                    break;
            }
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task Json(HttpContext ctx, string json)
    {
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(json);
    }

    private IGuardrailCheck Webhook(string path, HookEvent ev = Before, string extra = "") =>
        Check("default.webhook", $$"""{"webhookURL":"{{_server.Url(path)}}"{{extra}}}""", ev);

    [Fact]
    public async Task Webhook_verdict_and_data_come_from_the_answer()
    {
        var pass = await Webhook("/ok").RunAsync(Chat("hi"), Before);
        Assert.True(pass.Verdict);
        Assert.Null(pass.Error);
        Assert.Equal("fine", Str(pass.Data!["responseData"]!["reason"]));
        var fail = await Webhook("/deny").RunAsync(Chat("hi"), Before);
        Assert.False(fail.Verdict);
        Assert.Null(fail.Error);
        Assert.Equal("Webhook request failed", Str(fail.Data!["explanation"]));
    }

    [Fact]
    public async Task Webhook_posts_the_context_without_request_headers_and_with_configured_headers()
    {
        var ctx = Chat("hello webhook", headers: new HeaderBag().Set("Authorization", "Bearer client-secret"));
        await Webhook("/ok", extra: ""","headers":"{\"X-Hook-Key\":\"k1\"}" """).RunAsync(ctx, Before);
        var received = _server.Requests.Last(r => r.PathAndQuery == "/ok");
        Assert.Equal("POST", received.Method);
        Assert.Equal("k1", received.Headers["X-Hook-Key"]);
        Assert.StartsWith("application/json", received.Headers["Content-Type"]);
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("beforeRequestHook", Str(body["eventType"]));
        Assert.Equal("hello webhook", Str(body["request"]!["text"]));
        Assert.DoesNotContain("client-secret", received.Body);
        Assert.DoesNotContain("client-secret", string.Join(",", received.Headers.Values));
    }

    [Fact]
    public async Task Webhook_transforms_the_request_before_and_the_response_after()
    {
        var before = await Webhook("/transform").RunAsync(Chat("original"), Before);
        Assert.True(before.Transformed);
        Assert.Equal("rewritten by webhook", Str(before.TransformedRequest!["messages"]![1]!["content"]));
        Assert.Null(before.TransformedResponse);

        var after = await Webhook("/transform", After).RunAsync(Answer("original answer"), After);
        Assert.True(after.Transformed);
        Assert.Equal("answer rewritten", Str(after.TransformedResponse!["choices"]![0]!["message"]!["content"]));
        Assert.Null(after.TransformedRequest);
    }

    [Fact]
    public async Task Webhook_that_answers_late_is_a_timeout_error()
    {
        var outcome = await Webhook("/late", extra: ""","timeout":200""").RunAsync(Chat("hi"), Before);
        Assert.False(outcome.Verdict);
        Assert.Equal("TimeoutError", outcome.Error!.Name);
        Assert.Contains("200ms", outcome.Error.Message);
        Assert.Equal("200", outcome.Data!["requestContext"]!["timeout"]!.ToJsonString());
    }

    [Theory]
    [InlineData("/garbage")]
    [InlineData("/no-verdict")]
    public async Task Webhook_garbage_answer_is_an_error(string path)
    {
        var outcome = await Webhook(path).RunAsync(Chat("hi"), Before);
        Assert.False(outcome.Verdict);
        Assert.NotNull(outcome.Error);
    }

    [Fact]
    public async Task Webhook_error_status_is_an_http_error_with_the_json_body()
    {
        var outcome = await Webhook("/error").RunAsync(Chat("hi"), Before);
        Assert.Equal("HttpError", outcome.Error!.Name);
        Assert.Equal("HTTP error! status: 503", outcome.Error.Message);
        Assert.Equal("down for maintenance", Str(outcome.Data!["responseData"]!["message"]));
    }

    [Fact]
    public async Task Webhook_does_not_follow_redirects()
    {
        var outcome = await Webhook("/redirect").RunAsync(Chat("hi"), Before);
        Assert.Equal("HTTP error! status: 307", outcome.Error!.Message);
        Assert.DoesNotContain(_server.Requests, r => r.PathAndQuery.Contains("meta-data"));
    }

    [Fact]
    public async Task Log_posts_the_context_and_passes()
    {
        var check = Check("default.log", $$$"""{"logURL":"{{{_server.Url("/log-sink")}}}","headers":{"X-Log":"1"}}""", After);
        var ctx = Answer("logged answer");
        var outcome = await check.RunAsync(ctx, After);
        Assert.True(outcome.Verdict);
        var received = _server.Requests.Last(r => r.PathAndQuery == "/log-sink");
        Assert.Equal("1", received.Headers["X-Log"]);
        Assert.Equal("logged answer", Str(JsonNode.Parse(received.Body)!["response"]!["text"]));
    }

    [Fact]
    public async Task Log_failure_is_an_error()
    {
        var outcome = await Check("default.log", $$"""{"logURL":"{{_server.Url("/error")}}"}""", After).RunAsync(Answer("x"), After);
        Assert.False(outcome.Verdict);
        Assert.Equal("HttpError", outcome.Error!.Name);
    }
}
