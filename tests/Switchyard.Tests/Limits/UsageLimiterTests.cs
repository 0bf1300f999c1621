using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Errors;
using Switchyard.Core.Limits;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Requests;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Usage;
using Switchyard.Core.Usage.Pricing;
using Xunit;

namespace Switchyard.Tests.Limits;

/// <summary>The limiter in process (memory counters, a fake clock): which rules apply, refusals, reserve and settle, the overshoot bound.</summary>
public sealed class UsageLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    internal static LimitRule Rate(LimitUnit unit, decimal amount, LimitWindow window = LimitWindow.Minute) => new(LimitKind.RateLimit, unit, window, amount, []);

    internal static LimitRule Budget(LimitUnit unit, decimal amount, LimitWindow window = LimitWindow.Month, params decimal[] alerts) => new(LimitKind.Budget, unit, window, amount, alerts);

    private UsageLimiter Limiter(LimitOptions? options = null, Func<string, IReadOnlyList<LimitRule>?>? virtualKeys = null) =>
        new(options ?? new LimitOptions(), null, virtualKeys ?? (_ => null), PriceTable.Default, _time, NullLogger.Instance);

    internal static ApiKey Key(string name, string? team = null, params LimitRule[] rules) =>
        new() { Name = name, Team = team, Hash = new byte[32], Limits = rules, Scopes = FrozenSet<string>.Empty };

    internal static RequestContext Context(TimeProvider time, ApiKey? key = null, string model = "gpt-4o-mini", int? maxTokens = null,
        string? metadata = null, string? virtualKey = null, string text = "hello")
    {
        var body = maxTokens is { } m
            ? $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{text}}"}],"max_tokens":{{m}}}"""
            : $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{text}}"}]}""";
        var headers = new HeaderBag().Set("x-portkey-provider", "openai");
        if (metadata is not null)
        {
            headers.Set("x-portkey-metadata", metadata);
        }
        return new RequestContext("t", time, wantsUsage: true)
        {
            Request = new GatewayRequest
            {
                Method = "POST",
                Endpoint = EndpointKind.ChatComplete,
                Path = "/v1/chat/completions",
                UpstreamPath = "/chat/completions",
                Headers = headers,
                Body = Encoding.UTF8.GetBytes(body),
                ContentType = "application/json",
            },
            ApiKey = key,
            VirtualKey = virtualKey,
        };
    }

    private static void Finish(UsageLimiter limiter, RequestContext context, long prompt, long completion, decimal? cost = null)
    {
        context.ReportUsage(new TokenUsage(prompt, completion, prompt + completion, 0, 0), null);
        context.Cost = cost;
        limiter.Settle(context);
    }

    private static async Task<decimal> UsedAsync(UsageLimiter limiter, LimitSubject subject, int rule = 0) =>
        (await limiter.StatusAsync(subject, CancellationToken.None))[rule].Used;

    private static JsonElement Body(GatewayError error) => JsonDocument.Parse(ErrorResponseWriter.Body(error)).RootElement;

    private static string Header(GatewayError error, string name) => error.Headers!.Single(h => h.Key == name).Value;

    [Fact]
    public async Task Without_any_rule_the_step_does_nothing_and_allocates_no_task()
    {
        using var limiter = Limiter();
        var context = Context(_time, Key("plain"));
        Assert.False(limiter.Applies(context));
        var step = new Core.Pipeline.Steps.LimitAdmissionStep(limiter).RunAsync(context, CancellationToken.None);
        Assert.True(step.IsCompletedSuccessfully);
        Assert.Null(await step);
        Assert.Null(context.LimitReservation);
    }

    [Fact]
    public async Task Without_any_rule_the_step_allocates_nothing_per_request()
    {
        using var limiter = Limiter();
        var step = new Core.Pipeline.Steps.LimitAdmissionStep(limiter);
        var context = Context(_time, Key("plain"));
        _ = await step.RunAsync(context, CancellationToken.None);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            var pending = step.RunAsync(context, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully);
        }
        limiter.Settle(context);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task A_full_key_rate_limit_answers_429_with_portkey_code_05_retry_after_and_openai_ratelimit_headers()
    {
        using var limiter = Limiter();
        var alice = Key("alice", null, Rate(LimitUnit.Requests, 3), Rate(LimitUnit.Tokens, 100_000));
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await limiter.AdmitAsync(Context(_time, alice), CancellationToken.None));
        }
        _time.Advance(TimeSpan.FromSeconds(10));
        var refused = await limiter.AdmitAsync(Context(_time, alice), CancellationToken.None);
        Assert.NotNull(refused);
        Assert.Equal(429, refused!.Status);
        var body = Body(refused);
        Assert.Equal("failure", body.GetProperty("status").GetString());
        Assert.Equal("05", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Rate limit exceeded: key 'alice' allows 3 requests per minute", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("Portkey Error: Rate limit exceeded: key 'alice' allows 3 requests per minute. Error Code: 05", body.GetProperty("message").GetString());
        // The three sit in the sub-bucket starting at 10:00:00; room comes back at 10:01:03, 53 s from now.
        Assert.Equal("53", Header(refused, "Retry-After"));
        Assert.Equal("3", Header(refused, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-requests"));
        Assert.Equal("53s", Header(refused, "x-ratelimit-reset-requests"));
        Assert.Equal("100000", Header(refused, "x-ratelimit-limit-tokens"));
        Assert.Equal("3", Header(refused, "x-ratelimit-limit"));
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining"));
        Assert.Equal("53", Header(refused, "x-ratelimit-reset"));
        _time.Advance(TimeSpan.FromSeconds(53));
        Assert.Null(await limiter.AdmitAsync(Context(_time, alice), CancellationToken.None));
    }

    [Fact]
    public async Task A_later_subject_that_refuses_releases_what_earlier_subjects_reserved()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-limits-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "limits.yaml"), "teams:\n  ml: {rate_limits: [{requests: 1, per: minute}]}\n");
        using var withTeam = Limiter(new LimitOptions { Path = dir });
        withTeam.Start();
        var bob = Key("bob", "ml", Rate(LimitUnit.Requests, 10));
        Assert.Null(await withTeam.AdmitAsync(Context(_time, bob), CancellationToken.None));
        var refused = await withTeam.AdmitAsync(Context(_time, bob), CancellationToken.None);
        Assert.Equal(ErrorCategory.RateLimited, refused!.Category);
        Assert.Contains("team 'ml'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1m, await UsedAsync(withTeam, new LimitSubject(LimitSubjectKind.Key, "bob")));
        Assert.Equal(1m, await UsedAsync(withTeam, new LimitSubject(LimitSubjectKind.Team, "ml")));
    }

    [Fact]
    public async Task Tokens_are_reserved_from_max_tokens_and_the_body_then_settled_to_what_was_used()
    {
        using var limiter = Limiter(new LimitOptions { DefaultCompletionTokens = 700 });
        var key = Key("tok", null, Budget(LimitUnit.Tokens, 10_000, LimitWindow.Day));
        var subject = new LimitSubject(LimitSubjectKind.Key, "tok");
        var context = Context(_time, key, maxTokens: 300);
        Assert.Null(await limiter.AdmitAsync(context, CancellationToken.None));
        var prompt = (context.Request!.Body.Length + 3) / 4;
        Assert.Equal(300 + prompt, context.LimitReservation!.Tokens);
        Assert.Equal(300 + prompt, await UsedAsync(limiter, subject));
        Finish(limiter, context, 12, 40);
        Assert.Equal(52m, await UsedAsync(limiter, subject));

        var noMax = Context(_time, key);
        Assert.Null(await limiter.AdmitAsync(noMax, CancellationToken.None));
        Assert.Equal(700 + (noMax.Request!.Body.Length + 3) / 4, noMax.LimitReservation!.Tokens);
        // Settling twice counts once.
        Finish(limiter, noMax, 10, 10);
        Finish(limiter, noMax, 10, 10);
        Assert.Equal(72m, await UsedAsync(limiter, subject));
    }

    [Fact]
    public async Task A_cost_budget_reserves_the_priced_estimate_and_settles_the_cost_the_accounting_computed()
    {
        using var limiter = Limiter();
        var key = Key("spender", null, Budget(LimitUnit.Cost, 1m, LimitWindow.Month));
        var subject = new LimitSubject(LimitSubjectKind.Key, "spender");
        var context = Context(_time, key, model: "gpt-4o", maxTokens: 1_000);
        Assert.Null(await limiter.AdmitAsync(context, CancellationToken.None));
        var price = PriceTable.Default.Find("openai", "gpt-4o", _time.GetUtcNow())!;
        var expected = price.Estimate(context.LimitReservation!.Tokens - 1_000, 1_000);
        Assert.True(expected > 0);
        Assert.Equal(LimitCounters.Nanos(expected), context.LimitReservation.CostNanos);
        Finish(limiter, context, 10, 10, cost: 0.25m);
        Assert.Equal(0.25m, await UsedAsync(limiter, subject));
        // A request whose reservation does not fit in what is left is refused with 412, code 04.
        var big = Context(_time, key, model: "gpt-4o", maxTokens: 100_000);
        var refused = await limiter.AdmitAsync(big, CancellationToken.None);
        Assert.Equal(412, refused!.Status);
        var body = Body(refused);
        Assert.Equal("04", body.GetProperty("error").GetProperty("code").GetString());
        Assert.StartsWith("Portkey Error: Usage limit exceeded: key 'spender' has used its budget of 1 USD per month", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_requests_overshoot_a_budget_by_at_most_what_they_used_beyond_their_reservations()
    {
        using var limiter = Limiter();
        var key = Key("burst", null, Budget(LimitUnit.Tokens, 2_000, LimitWindow.Total));
        var subject = new LimitSubject(LimitSubjectKind.Key, "burst");
        var contexts = Enumerable.Range(0, 20).Select(_ => Context(_time, key, maxTokens: 300)).ToList();
        var results = await Task.WhenAll(contexts.Select(c => limiter.AdmitAsync(c, CancellationToken.None).AsTask()));
        var admitted = contexts.Where((_, i) => results[i] is null).ToList();
        var reserved = admitted[0].LimitReservation!.Tokens;
        Assert.Equal((int)(2_000 / reserved), admitted.Count);
        // Every admitted request used 150 tokens more than it reserved; the bound is the sum of that over the in-flight ones.
        foreach (var c in admitted)
        {
            Finish(limiter, c, 0, reserved + 150);
        }
        var used = await UsedAsync(limiter, subject);
        var bound = 2_000 + admitted.Count * 150;
        Assert.True(used <= bound, $"used {used}, bound {bound}");
        Assert.Equal(admitted.Count * (reserved + 150), used);
        Assert.NotNull(await limiter.AdmitAsync(Context(_time, key, maxTokens: 1), CancellationToken.None));
    }

    [Fact]
    public async Task A_virtual_key_budget_answers_412_with_the_virtual_key_exhaust_body()
    {
        using var limiter = Limiter(virtualKeys: slug => slug == "openai-prod" ? [Budget(LimitUnit.Tokens, 10, LimitWindow.Day)] : null);
        var refused = await limiter.AdmitAsync(Context(_time, virtualKey: "openai-prod", maxTokens: 50), CancellationToken.None);
        Assert.Equal(412, refused!.Status);
        var error = Body(refused).GetProperty("error");
        Assert.Equal("Portkey Virtual Key openai-prod Usage Limit Exceeded", error.GetProperty("message").GetString());
        Assert.Equal("virtual_key_exhaust_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("04", error.GetProperty("code").GetString());
        Assert.Null(await limiter.AdmitAsync(Context(_time, virtualKey: "other", maxTokens: 50), CancellationToken.None));
    }

    [Fact]
    public async Task A_virtual_key_chosen_by_the_router_is_charged_at_settlement_and_a_moved_reservation_is_released()
    {
        var rules = new Dictionary<string, IReadOnlyList<LimitRule>>
        {
            ["vk-a"] = [Rate(LimitUnit.Requests, 5)],
            ["vk-b"] = [Rate(LimitUnit.Requests, 5)],
        };
        using var limiter = Limiter(virtualKeys: rules.GetValueOrDefault);
        var context = Context(_time, virtualKey: "vk-a");
        Assert.Null(await limiter.AdmitAsync(context, CancellationToken.None));
        context.VirtualKey = "vk-b"; // the answering leaf used another virtual key
        Finish(limiter, context, 1, 1);
        Assert.Equal(0m, await UsedAsync(limiter, new LimitSubject(LimitSubjectKind.VirtualKey, "vk-a")));
        Assert.Equal(1m, await UsedAsync(limiter, new LimitSubject(LimitSubjectKind.VirtualKey, "vk-b")));
    }

    [Fact]
    public async Task A_policy_per_metadata_user_keeps_a_counter_per_user_and_answers_code_06_when_its_budget_is_spent()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-limits-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "limits.yaml"), """
            policies:
              - name: free-tier
                match: {metadata: {tier: free}, provider: openai}
                per: metadata._user
                rate_limits: [{requests: 2, per: minute}]
              - name: free-spend
                match: {metadata: {tier: free}}
                budgets: [{tokens: 100, period: day}]
            """);
        using var limiter = Limiter(new LimitOptions { Path = dir });
        limiter.Start();
        Assert.Empty(limiter.File!.Problems);
        const string Ann = """{"tier":"free","_user":"ann"}""", Ben = """{"tier":"free","_user":"ben"}""";
        Assert.Null(await limiter.AdmitAsync(Context(_time, metadata: Ann, maxTokens: 1), CancellationToken.None));
        Assert.Null(await limiter.AdmitAsync(Context(_time, metadata: Ann, maxTokens: 1), CancellationToken.None));
        var third = await limiter.AdmitAsync(Context(_time, metadata: Ann, maxTokens: 1), CancellationToken.None);
        Assert.Equal(ErrorCategory.RateLimited, third!.Category);
        Assert.Contains("policy 'free-tier'", third.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ann", third.Message, StringComparison.Ordinal);
        Assert.Null(await limiter.AdmitAsync(Context(_time, metadata: Ben, maxTokens: 1), CancellationToken.None));
        // Not on the free tier: no policy applies.
        Assert.False((await limiter.AdmitAsync(Context(_time, metadata: """{"tier":"paid","_user":"ann"}""", maxTokens: 1), CancellationToken.None)) is not null);
        var spent = await limiter.AdmitAsync(Context(_time, metadata: Ben, maxTokens: 100), CancellationToken.None);
        Assert.Equal(412, spent!.Status);
        var error = Body(spent).GetProperty("error");
        Assert.Equal("usage_limits_policy_exhaust_error", error.GetProperty("type").GetString());
        Assert.Equal("06", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Model_rules_apply_to_the_requests_model_and_the_limits_file_reloads_keeping_the_last_good_version()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-limits-").FullName;
        var file = Path.Combine(dir, "limits.yaml");
        await File.WriteAllTextAsync(file, "models:\n  gpt-4o: {rate_limits: [{requests: 1, per: hour}]}\n");
        using var limiter = Limiter(new LimitOptions { Path = dir, ReloadDebounce = TimeSpan.FromMilliseconds(20) });
        limiter.Start();
        Assert.Null(await limiter.AdmitAsync(Context(_time, model: "gpt-4o"), CancellationToken.None));
        Assert.NotNull(await limiter.AdmitAsync(Context(_time, model: "gpt-4o"), CancellationToken.None));
        Assert.Null(await limiter.AdmitAsync(Context(_time, model: "gpt-4o-mini"), CancellationToken.None));

        var reloaded = new TaskCompletionSource<WatchedSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A reader may catch the file halfway through the rewrite (empty: refused, the last good version serves): wait for the good one.
        limiter.Reloaded += s => { if (s.Problems.Count == 0) reloaded.TrySetResult(new WatchedSnapshot(s.Generation, s.Problems.Count)); };
        await File.WriteAllTextAsync(file, "models:\n  gpt-4o: {rate_limits: [{requests: 3, per: hour}]}\n");
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await limiter.AdmitAsync(Context(_time, model: "gpt-4o"), CancellationToken.None));

        var broken = new TaskCompletionSource<WatchedSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        limiter.Reloaded += s => { if (s.Problems.Count > 0) broken.TrySetResult(new WatchedSnapshot(s.Generation, s.Problems.Count)); };
        await File.WriteAllTextAsync(file, "models:\n  gpt-4o: {rate_limits: [{requests: 3, per: fortnight}]}\n");
        await broken.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var snapshot = limiter.File!;
        Assert.Equal("degraded", snapshot.State);
        Assert.Contains(snapshot.Problems, p => p.Path == "$.models.gpt-4o.rate_limits[0].per" && p.KeptPreviousVersion);
        // The previous version (3 per hour) still serves: one more fits, then none.
        Assert.Null(await limiter.AdmitAsync(Context(_time, model: "gpt-4o"), CancellationToken.None));
        Assert.NotNull(await limiter.AdmitAsync(Context(_time, model: "gpt-4o"), CancellationToken.None));
    }

    private sealed record WatchedSnapshot(long Generation, int Problems);

    [Fact]
    public async Task Local_counting_enforces_this_replicas_share_of_each_limit()
    {
        using var limiter = Limiter(new LimitOptions { Replicas = 3 });
        var key = Key("shared", null, Rate(LimitUnit.Requests, 10));
        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            admitted += await limiter.AdmitAsync(Context(_time, key), CancellationToken.None) is null ? 1 : 0;
        }
        Assert.Equal(3, admitted);
        Assert.Equal("local", limiter.State);
    }

    [Fact]
    public void The_limits_file_refuses_unknown_fields_and_bad_per_values_with_paths()
    {
        var errors = new List<(string Path, string Message)>();
        var warnings = new List<string>();
        var content = LimitsFile.Parse("""
            teams:
              ml: {rate_limits: [{requests: 1, per: minute}], budget: []}
            policies:
              - name: p
                match: {metadata: {tier: [1]}, region: eu}
                per: user
            """, "limits.yaml", errors, warnings);
        Assert.Null(content);
        Assert.Contains(errors, e => e.Path == "$.teams.ml.budget");
        Assert.Contains(errors, e => e.Path == "$.policies[0].match.region");
        Assert.Contains(errors, e => e.Path == "$.policies[0].match.metadata");
        Assert.Contains(errors, e => e.Path == "$.policies[0].per");
    }
}
