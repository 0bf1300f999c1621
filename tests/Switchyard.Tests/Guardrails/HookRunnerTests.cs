using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;
using Switchyard.Tests.Infrastructure;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class HookRunnerTests
{
    private const HookEvent Before = HookEvent.BeforeRequest;
    private const HookEvent After = HookEvent.AfterRequest;
    private readonly ManualClock _clock = new();
    private HookRunner Runner => new(_clock);

    private sealed class Fake(Func<HookContext, HookEvent, Task<CheckOutcome>> run) : IGuardrailCheck
    {
        public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct) => new(run(context, ev));
    }

    /// <summary>A check that declares it may rewrite the body.</summary>
    private sealed class Rewriter(IGuardrailCheck inner) : IGuardrailCheck
    {
        public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct) => inner.RunAsync(context, ev, ct);

        public bool MayTransform => true;
    }

    private static IGuardrailCheck Const(bool verdict, CheckError? error = null) =>
        new Fake((_, _) => Task.FromResult(new CheckOutcome(verdict, new JsonObject { ["v"] = verdict }, error)));

    /// <summary>Appends <paramref name="suffix"/> to the text it sees (request before, response after).</summary>
    private static IGuardrailCheck Append(string suffix) => new Fake((ctx, ev) =>
    {
        var text = ctx.GetText(ev);
        var body = ctx.WithTexts(ev, [text + suffix])!;
        return Task.FromResult(new CheckOutcome(true, null, Transformed: true)
        {
            TransformedRequest = ev == Before ? body : null,
            TransformedResponse = ev == After ? body : null,
        });
    });

    private static CheckDefinition Def(string id, IGuardrailCheck check, bool enabled = true, bool failOnError = false) =>
        new() { Id = id, Parameters = [], Check = check, IsEnabled = enabled, FailOnError = failOnError };

    private static HookDefinition Hook(string id, params CheckDefinition[] checks) =>
        new() { Id = id, Kind = HookKind.Guardrail, Checks = checks };

    [Fact]
    public async Task Hook_verdict_counts_errors_as_passes_unless_failOnError()
    {
        var errored = new CheckError("Error", "service down");
        var result = await Runner.RunAsync([
            Hook("pass", Def("a", Const(true)), Def("b", Const(false, errored))),
            Hook("fail", Def("a", Const(true)), Def("b", Const(false))),
            Hook("strict", Def("b", Const(false, errored), failOnError: true)),
        ], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.Equal([true, false, false], result.Results.Select(r => Bool(r["verdict"])));
        Assert.True(result.AnyFailed);
        Assert.False(result.ShouldDeny);
        Assert.Equal("service down", Str(result.Results[0]["checks"]![1]!["error"]!["message"]));
        Assert.True(Bool(result.Results[2]["checks"]![0]!["fail_on_error"]));
    }

    [Fact]
    public async Task A_throwing_check_is_a_check_error_that_still_passes_the_hook()
    {
        var result = await Runner.RunAsync([Hook("h", Def("boom", new Fake((_, _) => throw new InvalidOperationException("kaput"))))],
            Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        var check = result.Results[0]["checks"]![0]!;
        Assert.False(Bool(check["verdict"]));
        Assert.Equal("Check error", Str(check["error"]!["name"]));
        Assert.Contains("kaput", Str(check["error"]!["message"]));
        Assert.True(Bool(result.Results[0]["verdict"]));
    }

    [Fact]
    public async Task Disabled_checks_do_not_run()
    {
        var ran = 0;
        var counting = new Fake((_, _) =>
        {
            Interlocked.Increment(ref ran);
            return Task.FromResult(new CheckOutcome(false, null));
        });
        var result = await Runner.RunAsync([Hook("h", Def("off", counting, enabled: false), Def("on", Const(true)))],
            Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.Equal(0, ran);
        Assert.True(Bool(result.Results[0]["verdict"]));
        Assert.Single(result.Results[0]["checks"]!.AsArray());
    }

    [Fact]
    public async Task Sequential_checks_see_earlier_transforms_and_parallel_ones_do_not()
    {
        var sequential = Chat("a");
        await Runner.RunAsync([new HookDefinition { Id = "s", Kind = HookKind.Guardrail, Sequential = true, Checks = [Def("1", Append("1")), Def("2", Append("2"))] }],
            Before, sequential, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("a12", LastUserText(sequential));

        var parallel = Chat("a");
        var result = await Runner.RunAsync([Hook("p", Def("1", Append("1")), Def("2", Append("2")))], Before, parallel, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("a2", LastUserText(parallel)); // both saw "a"; transforms applied in check order, the last one wins
        Assert.True(result.RequestTransformed);
        Assert.True(Bool(result.Results[0]["transformed"]));
        Assert.True(parallel.RequestTransformed);
    }

    [Fact]
    public async Task Rewriting_checks_of_a_parallel_guardrail_compose_instead_of_racing()
    {
        var ctx = Chat("a");
        var result = await Runner.RunAsync([Hook("p", Def("1", new Rewriter(Append("1"))), Def("pure", Const(true)), Def("2", new Rewriter(Append("2"))))],
            Before, ctx, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("a12", LastUserText(ctx));
        Assert.Equal(["1", "pure", "2"], result.Results[0]["checks"]!.AsArray().Select(c => Str(c!["id"])));
    }

    [Fact]
    public async Task Rewriting_hooks_compose_instead_of_racing()
    {
        var ctx = Chat("a");
        await Runner.RunAsync([
            Hook("first", Def("1", new Rewriter(Append("1")))),
            Hook("pure", Def("c", Const(true))),
            new HookDefinition { Id = "second", Kind = HookKind.Mutator, Checks = [Def("2", new Rewriter(Append("2")))] },
        ], Before, ctx, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("a12", LastUserText(ctx));
    }

    [Fact]
    public async Task Mutator_checks_always_run_in_order()
    {
        var ctx = Chat("m");
        await Runner.RunAsync([new HookDefinition { Id = "mut", Kind = HookKind.Mutator, Checks = [Def("1", Append("1")), Def("2", Append("2")), Def("3", Append("3"))] }],
            Before, ctx, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("m123", LastUserText(ctx));
    }

    [Fact]
    public async Task Guardrail_checks_and_hooks_run_concurrently()
    {
        // Each check waits until all three have started: only concurrent execution lets them all pass.
        var started = new CountdownEvent(3);
        IGuardrailCheck Rendezvous() => new Fake(async (_, _) =>
        {
            started.Signal();
            var all = await Task.Run(() => started.Wait(TimeSpan.FromSeconds(20)));
            return new CheckOutcome(all, null);
        });
        var result = await Runner.RunAsync([Hook("one", Def("a", Rendezvous()), Def("b", Rendezvous())), Hook("two", Def("c", Rendezvous()))],
            Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.All(result.Results, r => Assert.True(Bool(r["verdict"])));
    }

    [Fact]
    public async Task Skip_rules()
    {
        var guard = Hook("g", Def("c", Const(false)));
        var mutator = new HookDefinition { Id = "m", Kind = HookKind.Mutator, Checks = [Def("c", Const(false))] };

        var image = await Runner.RunAsync([guard], Before, Context("""{"model":"dall-e","prompt":"cat"}""", "imageGenerate"), HookSelection.Sync, CancellationToken.None);
        Assert.True(Bool(image.Results[0]["skipped"]));
        Assert.False(image.AnyFailed);
        Assert.True(image.NoneRan);

        var embed = Context("""{"model":"e","input":"x"}""", "embed");
        var embedBefore = await Runner.RunAsync([guard, mutator], Before, embed, HookSelection.Sync, CancellationToken.None);
        Assert.Null(embedBefore.Results[0]["skipped"]);
        Assert.True(Bool(embedBefore.Results[1]["skipped"]));
        embed.SetResponse(new JsonObject { ["data"] = new JsonArray() }, 200);
        Assert.True(Bool((await Runner.RunAsync([guard], After, embed, HookSelection.Sync, CancellationToken.None)).Results[0]["skipped"]));

        var failedUpstream = Chat("x");
        failedUpstream.SetResponse(new JsonObject { ["error"] = new JsonObject() }, 500);
        var skipped = await Runner.RunAsync([new HookDefinition { Id = "d", Kind = HookKind.Guardrail, Deny = true, Checks = [Def("c", Const(false))] }],
            After, failedUpstream, HookSelection.Sync, CancellationToken.None);
        Assert.Equal(new JsonObject { ["id"] = "d", ["type"] = "guardrail", ["skipped"] = true }.ToJsonString(), skipped.Results[0].ToJsonString());
        Assert.False(skipped.ShouldDeny);
    }

    [Fact]
    public async Task Deny_only_when_a_deny_hook_fails()
    {
        var result = await Runner.RunAsync([
            new HookDefinition { Id = "soft", Kind = HookKind.Guardrail, Checks = [Def("c", Const(false))] },
            new HookDefinition { Id = "hard", Kind = HookKind.Guardrail, Deny = true, Checks = [Def("c", Const(true))] },
        ], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.False(result.ShouldDeny);
        Assert.True(result.AnyFailed);
        Assert.False(Bool(result.Results[1]["deny"]));

        var denied = await Runner.RunAsync([new HookDefinition { Id = "hard", Kind = HookKind.Guardrail, Deny = true, Checks = [Def("c", Const(false))] }],
            Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.True(denied.ShouldDeny);
        Assert.True(Bool(denied.Results[0]["deny"]));
    }

    [Fact]
    public async Task Feedback_comes_from_on_fail_or_on_success_with_check_ids()
    {
        var onFail = (JsonObject)JsonNode.Parse("""{"feedback":{"value":-10,"weight":2,"metadata":{"reason":"policy"}}}""")!;
        var onSuccess = (JsonObject)JsonNode.Parse("""{"feedback":{"value":10,"weight":1}}""")!;
        var hook = new HookDefinition
        {
            Id = "f", Kind = HookKind.Guardrail, OnFail = onFail, OnSuccess = onSuccess,
            Checks = [Def("ok", Const(true)), Def("bad", Const(false)), Def("err", Const(false, CheckError.Of("x")), failOnError: true)],
        };
        var failed = await Runner.RunAsync([hook], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        var feedback = failed.Results[0]["feedback"]!;
        Assert.Equal(-10, feedback["value"]!.GetValue<int>());
        Assert.Equal(2, feedback["weight"]!.GetValue<int>());
        Assert.Equal("policy", Str(feedback["metadata"]!["reason"]));
        Assert.Equal("ok", Str(feedback["metadata"]!["successfulChecks"]));
        Assert.Equal("bad", Str(feedback["metadata"]!["failedChecks"]));
        Assert.Equal("err", Str(feedback["metadata"]!["erroredChecks"]));

        var passing = new HookDefinition { Id = "p", Kind = HookKind.Guardrail, OnFail = onFail, OnSuccess = onSuccess, Checks = [Def("ok", Const(true))] };
        var passed = await Runner.RunAsync([passing], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.Equal(10, passed.Results[0]["feedback"]!["value"]!.GetValue<int>());
        var plain = await Runner.RunAsync([Hook("n", Def("ok", Const(true)))], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.Null(plain.Results[0]["feedback"]);
        Assert.True(plain.Results[0].ContainsKey("feedback"));
    }

    [Fact]
    public async Task Sync_and_async_selections_pick_their_hooks()
    {
        var hooks = new[]
        {
            new HookDefinition { Id = "inline", Kind = HookKind.Guardrail, Checks = [Def("c", Const(true))] },
            new HookDefinition { Id = "background", Kind = HookKind.Guardrail, Async = true, Checks = [Def("c", Const(true))] },
        };
        var sync = await Runner.RunAsync(hooks, Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        Assert.Equal("inline", Str(Assert.Single(sync.Results)["id"]));
        var bg = await Runner.RunAsync(hooks, Before, Chat("x"), HookSelection.Async, CancellationToken.None);
        Assert.Equal("background", Str(Assert.Single(bg.Results)["id"]));
        Assert.True(Bool(bg.Results[0]["async"]));
        Assert.Same(HookEventResult.Empty, await Runner.RunAsync([], Before, Chat("x"), HookSelection.Sync, CancellationToken.None));
    }

    [Fact]
    public async Task Result_objects_have_portkeys_fields_and_the_injected_clock()
    {
        var result = await Runner.RunAsync([Hook("shape", Def("default.x", Const(true)))], Before, Chat("x"), HookSelection.Sync, CancellationToken.None);
        var hook = result.Results[0];
        foreach (var field in (string[])["id", "type", "verdict", "deny", "async", "transformed", "execution_time", "created_at", "feedback", "checks"])
        {
            Assert.True(hook.ContainsKey(field), field);
        }
        Assert.Equal("2026-12-01T12:00:00.000Z", Str(hook["created_at"]));
        var check = hook["checks"]![0]!.AsObject();
        Assert.Equal(["id", "verdict", "data", "execution_time", "created_at", "transformed", "log", "fail_on_error"], check.Select(p => p.Key));
        Assert.Equal("default.x", Str(check["id"]));
        Assert.True(check["execution_time"]!.GetValue<long>() >= 0);
        var copy = result.ToJsonArray();
        copy[0]!["id"] = "changed";
        Assert.Equal("shape", Str(result.Results[0]["id"]));
    }

    [Fact]
    public async Task After_request_transforms_replace_the_response_only()
    {
        var ctx = Answer("reply");
        var result = await Runner.RunAsync([new HookDefinition { Id = "m", Kind = HookKind.Mutator, Checks = [Def("a", Append("!"))] }],
            After, ctx, HookSelection.Sync, CancellationToken.None);
        Assert.Equal("reply!", ctx.ResponseText);
        Assert.True(result.ResponseTransformed);
        Assert.False(result.RequestTransformed);
        Assert.Equal("Hello?", ctx.RequestText);
    }

    [Fact]
    public async Task Compiled_config_runs_end_to_end()
    {
        var (before, _) = CompileOk("""
            {"input_guardrails":[{"deny":true,"regexMatch":{"rule":"^[^<>]*$"},"pii":{}}],
             "input_mutators":[{"addPrefix":{"prefix":"[safe] "}}]}
            """);
        var ctx = Chat("Mail me at jane.doe@example.com");
        var result = await Runner.RunAsync(before!, Before, ctx, HookSelection.Sync, CancellationToken.None);
        Assert.False(result.ShouldDeny);
        Assert.Contains("[EMAIL]", LastUserText(ctx));
        Assert.StartsWith("[safe] ", LastUserText(ctx));
        Assert.True(result.RequestTransformed);

        var injected = await Runner.RunAsync(before!, Before, Chat("<script>"), HookSelection.Sync, CancellationToken.None);
        Assert.True(injected.ShouldDeny);
    }
}
