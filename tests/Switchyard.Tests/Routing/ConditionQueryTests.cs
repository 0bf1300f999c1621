using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Core.Usage.Tokens;
using Switchyard.Core.Configs;
using Switchyard.Core.Routing.Conditions;
using Xunit;

namespace Switchyard.Tests.Routing;

public sealed class ConditionQueryTests
{
    private const string Prefix = "strategy.conditions[0].query";

    private const string Metadata = """
        {"team": {"tier": "gold", "size": 12}, "user": "alice", "env": "prod", "score": "42.5kg", "flag": true,
         "nothing": null, "tags": ["a", "b"]}
        """;

    private const string Body = """
        {"model": "gpt-4o", "temperature": 0.7, "max_tokens": 256, "stream": false, "n": 1,
         "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hello there"}],
         "response_format": {"type": "json_object"}}
        """;

    [Theory]
    // literal shorthand: strict type and value; numbers by value; containers structurally
    [InlineData("""{"params.model": "gpt-4o"}""", true)]
    [InlineData("""{"params.model": "gpt-4"}""", false)]
    [InlineData("""{"params.max_tokens": 256}""", true)]
    [InlineData("""{"params.max_tokens": 256.0}""", true)]
    [InlineData("""{"params.max_tokens": 2.56e2}""", true)]
    [InlineData("""{"params.max_tokens": "256"}""", false)]
    [InlineData("""{"params.stream": false}""", true)]
    [InlineData("""{"params.stream": "false"}""", false)]
    [InlineData("""{"params.stream": 0}""", false)]
    [InlineData("""{"metadata.nothing": null}""", true)]
    [InlineData("""{"metadata.missing": null}""", false)]
    [InlineData("""{"metadata.tags": ["a", "b"]}""", true)]
    [InlineData("""{"metadata.tags": ["b", "a"]}""", false)]
    [InlineData("""{"metadata.tags": ["a"]}""", false)]
    [InlineData("""{}""", true)]
    // nested paths and array indexes
    [InlineData("""{"metadata.team.tier": "gold"}""", true)]
    [InlineData("""{"metadata.team.tier": "silver"}""", false)]
    [InlineData("""{"params.response_format.type": "json_object"}""", true)]
    [InlineData("""{"params.messages.0.role": "system"}""", true)]
    [InlineData("""{"params.messages.1.content": "Hello there"}""", true)]
    [InlineData("""{"params.messages.1.role": "system"}""", false)]
    // missing paths resolve to undefined
    [InlineData("""{"params.messages.2.role": {"$exists": false}}""", true)]
    [InlineData("""{"params.messages.01.role": {"$exists": false}}""", true)]
    [InlineData("""{"params.messages.-1.role": {"$exists": false}}""", true)]
    [InlineData("""{"params.model.length": {"$exists": false}}""", true)]
    [InlineData("""{"metadata.team.tier.x": {"$exists": false}}""", true)]
    [InlineData("""{"metadata.nothing.x": {"$exists": false}}""", true)]
    [InlineData("""{"metadata.missing": {"$exists": true}}""", false)]
    // $eq / $ne
    [InlineData("""{"metadata.user": {"$eq": "alice"}}""", true)]
    [InlineData("""{"metadata.user": {"$eq": "bob"}}""", false)]
    [InlineData("""{"params.response_format": {"$eq": {"type": "json_object"}}}""", true)]
    [InlineData("""{"metadata.team": {"$eq": {"size": 12.0, "tier": "gold"}}}""", true)]
    [InlineData("""{"metadata.team": {"$eq": {"tier": "gold"}}}""", false)]
    [InlineData("""{"metadata.team": {"$eq": {"tier": "gold", "size": 12, "x": 1}}}""", false)]
    [InlineData("""{"metadata.missing": {"$eq": null}}""", false)]
    [InlineData("""{"metadata.user": {"$ne": "bob"}}""", true)]
    [InlineData("""{"metadata.user": {"$ne": "alice"}}""", false)]
    [InlineData("""{"metadata.missing": {"$ne": "x"}}""", true)]
    [InlineData("""{"metadata.tags": {"$ne": ["a", "b"]}}""", false)]
    // $gt / $gte / $lt / $lte
    [InlineData("""{"params.max_tokens": {"$gt": 255}}""", true)]
    [InlineData("""{"params.max_tokens": {"$gt": 256}}""", false)]
    [InlineData("""{"params.max_tokens": {"$gte": 256}}""", true)]
    [InlineData("""{"params.max_tokens": {"$gte": 257}}""", false)]
    [InlineData("""{"params.max_tokens": {"$lt": 257}}""", true)]
    [InlineData("""{"params.max_tokens": {"$lt": 256}}""", false)]
    [InlineData("""{"params.max_tokens": {"$lte": 256}}""", true)]
    [InlineData("""{"params.max_tokens": {"$lte": 255}}""", false)]
    [InlineData("""{"params.temperature": {"$gt": 0.5, "$lt": 1}}""", true)]
    [InlineData("""{"params.temperature": {"$gt": 0.5, "$lt": 0.6}}""", false)]
    [InlineData("""{"metadata.team.size": {"$gte": "12"}}""", true)]
    [InlineData("""{"metadata.score": {"$gt": 42}}""", true)]
    [InlineData("""{"metadata.score": {"$lt": "43 units"}}""", true)]
    [InlineData("""{"metadata.score": {"$gt": 43}}""", false)]
    [InlineData("""{"metadata.user": {"$gt": 0}}""", false)]
    [InlineData("""{"metadata.user": {"$lte": 0}}""", false)]
    [InlineData("""{"metadata.flag": {"$gte": 0}}""", false)]
    [InlineData("""{"metadata.nothing": {"$lte": 0}}""", false)]
    [InlineData("""{"metadata.tags": {"$gte": 0}}""", false)]
    [InlineData("""{"metadata.missing": {"$lt": 1e9}}""", false)]
    // $in / $nin
    [InlineData("""{"params.model": {"$in": ["gpt-4o", "gpt-4o-mini"]}}""", true)]
    [InlineData("""{"params.model": {"$in": ["claude-3"]}}""", false)]
    [InlineData("""{"params.model": {"$in": []}}""", false)]
    [InlineData("""{"params.n": {"$in": ["x", 1.0]}}""", true)]
    [InlineData("""{"params.n": {"$in": ["1"]}}""", false)]
    [InlineData("""{"metadata.tags": {"$in": [["a", "b"], "c"]}}""", true)]
    [InlineData("""{"metadata.missing": {"$in": ["a", null]}}""", false)]
    [InlineData("""{"params.model": {"$nin": ["claude-3"]}}""", true)]
    [InlineData("""{"params.model": {"$nin": ["claude-3", "gpt-4o"]}}""", false)]
    [InlineData("""{"params.model": {"$nin": []}}""", true)]
    [InlineData("""{"metadata.missing": {"$nin": ["a"]}}""", true)]
    // $regex: unanchored search, strings only
    [InlineData("""{"params.model": {"$regex": "^gpt-4"}}""", true)]
    [InlineData("""{"params.model": {"$regex": "4o"}}""", true)]
    [InlineData("""{"params.model": {"$regex": "^claude"}}""", false)]
    [InlineData("""{"params.model": {"$regex": "^GPT"}}""", false)]
    [InlineData("""{"params.model": {"$regex": "(?i)^GPT"}}""", true)]
    [InlineData("""{"params.messages.1.content": {"$regex": "^Hello\\s"}}""", true)]
    [InlineData("""{"params.max_tokens": {"$regex": "256"}}""", false)]
    [InlineData("""{"params.stream": {"$regex": "false"}}""", false)]
    [InlineData("""{"metadata.missing": {"$regex": ".*"}}""", false)]
    [InlineData("""{"metadata.nothing": {"$regex": ".*"}}""", false)]
    // $exists
    [InlineData("""{"metadata.user": {"$exists": true}}""", true)]
    [InlineData("""{"metadata.user": {"$exists": false}}""", false)]
    [InlineData("""{"metadata.missing": {"$exists": false}}""", true)]
    [InlineData("""{"metadata.nothing": {"$exists": true}}""", true)]
    // $length (newer Portkey): arrays only, a count or operators on the count
    [InlineData("""{"params.messages": {"$length": 2}}""", true)]
    [InlineData("""{"params.messages": {"$length": 3}}""", false)]
    [InlineData("""{"params.messages": {"$length": {"$gt": 1, "$lte": 2}}}""", true)]
    [InlineData("""{"params.messages": {"$length": {"$gte": 3}}}""", false)]
    [InlineData("""{"params.messages": {"$length": {"$in": [1, 2]}}}""", true)]
    [InlineData("""{"params.model": {"$length": 6}}""", false)]
    [InlineData("""{"metadata.missing": {"$length": {"$lt": 1}}}""", false)]
    // url.pathname
    [InlineData("""{"url.pathname": "/v1/chat/completions"}""", true)]
    [InlineData("""{"url.pathname": "/v1/embeddings"}""", false)]
    [InlineData("""{"url.pathname": {"$regex": "^/v1/chat/"}}""", true)]
    [InlineData("""{"url.pathname": {"$in": ["/v1/embeddings", "/v1/chat/completions"]}}""", true)]
    [InlineData("""{"url.pathname": {"$ne": "/v1/chat/completions"}}""", false)]
    [InlineData("""{"url.pathname": {"$gt": 0}}""", false)]
    // request.* (a body of 1001 bytes whose prompt is 15 tokens for gpt-4o: 3 + (3 + "system" 1 + "be brief" 2) + (3 + "user" 1 + "Hello there" 2))
    [InlineData("""{"request.body_bytes": 1001}""", true)]
    [InlineData("""{"request.body_bytes": 1001.0}""", true)]
    [InlineData("""{"request.body_bytes": "1001"}""", false)]
    [InlineData("""{"request.body_bytes": {"$gt": 1000}}""", true)]
    [InlineData("""{"request.body_bytes": {"$lte": 1000}}""", false)]
    [InlineData("""{"request.body_bytes": {"$in": [1001]}}""", true)]
    [InlineData("""{"request.estimated_tokens": 15}""", true)]
    [InlineData("""{"request.estimated_tokens": {"$gte": 15, "$lt": 16}}""", true)]
    [InlineData("""{"request.estimated_tokens": {"$lt": 15}}""", false)]
    [InlineData("""{"request.estimated_tokens": {"$regex": "15"}}""", false)]
    [InlineData("""{"request.estimated_cost": {"$exists": true}}""", true)]
    [InlineData("""{"request.estimated_cost": {"$gt": 0, "$lt": 1}}""", true)]
    [InlineData("""{"request.estimated_tokens": {"$exists": true}}""", true)]
    // several keys are AND-ed
    [InlineData("""{"metadata.user": "alice", "params.model": "gpt-4o"}""", true)]
    [InlineData("""{"metadata.user": "alice", "params.model": "gpt-4"}""", false)]
    [InlineData("""{"metadata.user": "bob", "params.model": "gpt-4o"}""", false)]
    // $and / $or and their nesting
    [InlineData("""{"$and": [{"metadata.user": "alice"}, {"params.model": "gpt-4o"}]}""", true)]
    [InlineData("""{"$and": [{"metadata.user": "alice"}, {"params.model": "gpt-4"}]}""", false)]
    [InlineData("""{"$or": [{"metadata.user": "bob"}, {"params.model": "gpt-4o"}]}""", true)]
    [InlineData("""{"$or": [{"metadata.user": "bob"}, {"params.model": "gpt-4"}]}""", false)]
    [InlineData("""{"$and": [{}]}""", true)]
    [InlineData("""{"$or": [{"$and": [{"metadata.env": "prod"}, {"metadata.team.tier": "gold"}]}, {"metadata.user": "bob"}]}""", true)]
    [InlineData("""{"$and": [{"$or": [{"metadata.user": "bob"}, {"metadata.user": "carol"}]}, {"metadata.env": "prod"}]}""", false)]
    [InlineData("""{"$and": [{"$or": [{"metadata.user": "bob"}, {"$and": [{"metadata.env": "prod"}, {"params.n": 1}]}]}]}""", true)]
    // fixed quirk 1: $and / $or combine with sibling keys (Portkey returns the group's result and ignores the siblings)
    [InlineData("""{"$or": [{"metadata.user": "alice"}], "metadata.env": "dev"}""", false)]
    [InlineData("""{"metadata.env": "dev", "$and": [{"metadata.user": "alice"}]}""", false)]
    [InlineData("""{"$or": [{"metadata.user": "alice"}], "metadata.env": "prod"}""", true)]
    [InlineData("""{"$and": [{"metadata.user": "alice"}], "$or": [{"metadata.user": "bob"}]}""", false)]
    [InlineData("""{"$and": [{"metadata.user": "alice"}], "$or": [{"metadata.user": "bob"}, {"metadata.env": "prod"}]}""", true)]
    // fixed quirk 2: $regex combines with sibling operators (Portkey returns the regex result and skips the rest)
    [InlineData("""{"params.model": {"$regex": "^gpt", "$ne": "gpt-4o"}}""", false)]
    [InlineData("""{"params.model": {"$ne": "gpt-4o", "$regex": "^gpt"}}""", false)]
    [InlineData("""{"params.model": {"$regex": "^gpt", "$in": ["gpt-4o", "gpt-4.1"]}}""", true)]
    [InlineData("""{"params.model": {"$eq": "gpt-4o", "$regex": "mini"}}""", false)]
    [InlineData("""{"params.model": {"$regex": "^gpt", "$exists": true}}""", true)]
    public void Evaluates(string query, bool expected)
    {
        var compiled = Compile(query);
        Assert.Equal(expected, compiled.Matches(Context(Metadata, Body, "/v1/chat/completions", 1001)));
    }

    [Theory]
    [InlineData("""{"metadata.user": "alice"}""", false)]
    [InlineData("""{"metadata.user": {"$exists": false}}""", true)]
    [InlineData("""{"metadata.user": {"$ne": "alice"}}""", true)]
    [InlineData("""{"metadata.user": {"$nin": ["alice"]}}""", true)]
    [InlineData("""{"params.model": {"$exists": false}}""", true)]
    [InlineData("""{"params.model": {"$in": ["gpt-4o"]}}""", false)]
    public void AbsentMetadataAndNonJsonBodyAreUndefined(string query, bool expected)
    {
        var context = new ConditionContext(default, () => default, "/v1/audio/transcriptions", 0);
        Assert.Equal(expected, Compile(query).Matches(context));
    }

    [Theory]
    [InlineData(1001)]
    [InlineData(5)]
    [InlineData(10_000_000)]
    public void EstimatedTokensCountThePromptWhateverTheBodySize(long bodyBytes)
    {
        var context = Context("{}", Body, "/v1/chat/completions", bodyBytes);
        Assert.Equal(TokenCounter.CountPrompt("gpt-4o", Encoding.UTF8.GetBytes(Body)), context.EstimatedTokens);
        Assert.Equal(15, context.EstimatedTokens);
        Assert.True(Compile("""{"request.estimated_tokens": 15}""").Matches(context));
    }

    [Fact]
    public void EstimatedTokensFollowTheModelsTokenizerAndTheBodysFormat()
    {
        const string chat = """{"model": "MODEL", "messages": [{"role": "user", "content": "東京は日本の首都です。今日はいい天気ですね"}]}""";
        var gpt4o = Context("{}", chat.Replace("MODEL", "gpt-4o"), "/v1/chat/completions", 100).EstimatedTokens;
        var gpt4 = Context("{}", chat.Replace("MODEL", "gpt-4"), "/v1/chat/completions", 100).EstimatedTokens;
        Assert.True(gpt4 > gpt4o, $"cl100k {gpt4} vs o200k {gpt4o}");
        // Anthropic Messages: the system prompt beside the messages counts like a system message.
        const string messages = """{"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "be brief", "messages": [{"role": "user", "content": "Hello there"}]}""";
        Assert.Equal(15, Context("{}", messages, "/v1/messages", 100).EstimatedTokens);
        // No prompt (a non-JSON upload, an empty object): 0.
        Assert.Equal(0, new ConditionContext(default, () => default, "/v1/audio/transcriptions", 50_000).EstimatedTokens);
        Assert.Equal(0, Context("{}", "{}", "/v1/chat/completions", 2).EstimatedTokens);
    }

    private static readonly PriceTable Prices = PriceTable.Parse("""
        {"format_version": 1, "models": [{"provider": "openai", "model": "gpt-4o", "prices": [
          {"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "test"}]}]}
        """);

    private static readonly DateTimeOffset PricedAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    // 15 prompt tokens at $1/M, plus the completion the request allows at $2/M.
    [InlineData("""{"max_tokens": 256}""", (15 + 256 * 2) / 1e6)]
    [InlineData("""{"max_completion_tokens": 1000, "max_tokens": 10}""", (15 + 1000 * 2) / 1e6)]
    [InlineData("""{"max_output_tokens": 40}""", (15 + 40 * 2) / 1e6)]
    [InlineData("""{"max_tokens": 100, "n": 3}""", (15 + 300 * 2) / 1e6)]
    [InlineData("""{}""", (15 + ConditionContext.DefaultExpectedOutputTokens * 2) / 1e6)]
    [InlineData("""{"max_tokens": "lots"}""", (15 + ConditionContext.DefaultExpectedOutputTokens * 2) / 1e6)]
    public void EstimatedCostIsThePromptPlusTheAllowedCompletion(string limits, double expected)
    {
        var body = JsonNode.Parse("""{"model": "gpt-4o", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hello there"}]}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(limits)!.AsObject()) body[key] = value?.DeepClone();
        var context = PricedContext(body.ToJsonString(), PricedAt);
        Assert.Equal(expected, context.EstimatedCost!.Value, 12);
        Assert.True(Compile($$$"""{"request.estimated_cost": {"$gte": {{{expected - 1e-9}}}, "$lte": {{{expected + 1e-9}}}}}""").Matches(context));
    }

    [Fact]
    public void EstimatedCostIsUndefinedWithoutAPrice()
    {
        var unknown = PricedContext("""{"model": "my-own-model", "messages": [{"role": "user", "content": "hi"}]}""", PricedAt);
        Assert.Null(unknown.EstimatedCost);
        Assert.True(Compile("""{"request.estimated_cost": {"$exists": false}}""").Matches(unknown));
        Assert.False(Compile("""{"request.estimated_cost": {"$lt": 1000}}""").Matches(unknown));
        // Before the model's first price, and without a model at all.
        Assert.Null(PricedContext(Body, new DateTimeOffset(2024, 12, 31, 0, 0, 0, TimeSpan.Zero)).EstimatedCost);
        Assert.Null(PricedContext("""{"messages": []}""", PricedAt).EstimatedCost);
    }

    [Fact]
    public void RouterContextsPriceWithTheShippedTableByDefault()
    {
        var context = Context(Metadata, Body, "/v1/chat/completions", 1001);
        var price = PriceTable.Default.Find(null, "gpt-4o", DateTimeOffset.UtcNow)!;
        Assert.Equal((double)price.Estimate(15, 256), context.EstimatedCost!.Value, 12);
    }

    private static ConditionContext PricedContext(string body, DateTimeOffset at)
    {
        var parsed = Parse(body);
        return new ConditionContext(default, () => parsed, "/v1/chat/completions", body.Length, EndpointKind.ChatComplete, Prices, at);
    }

    [Theory]
    [InlineData("""{"metadata.user": "alice"}""")]
    [InlineData("""{"url.pathname": {"$regex": "chat"}, "request.body_bytes": {"$gt": 0}}""")]
    [InlineData("""{"metadata.user": "bob", "params.model": "gpt-4o"}""")]   // AND settles on metadata first...
    [InlineData("""{"params.model": "gpt-4o", "metadata.user": "bob"}""")]   // ...whatever the key order
    [InlineData("""{"$or": [{"params.model": "gpt-4o"}, {"metadata.user": "alice"}]}""")]
    [InlineData("""{"$and": [{"params.model": "gpt-4o"}], "metadata.env": "dev"}""")]
    [InlineData("""{"request.estimated_tokens": {"$gt": 0}, "metadata.user": "bob"}""")]   // the prompt is not tokenized either
    [InlineData("""{"$or": [{"request.estimated_cost": {"$gt": 0}}, {"request.body_bytes": {"$gt": 0}}]}""")]
    public void BodyIsNotParsedUnlessAParamsKeyIsEvaluated(string query)
    {
        var calls = 0;
        var context = new ConditionContext(Parse(Metadata), () => { calls++; return Parse(Body); }, "/v1/chat/completions", 1001);
        Compile(query).Matches(context);
        Assert.Equal(0, calls);
    }

    [Fact]
    public void BodyIsParsedAtMostOncePerContext()
    {
        var calls = 0;
        var context = new ConditionContext(Parse(Metadata), () => { calls++; return Parse(Body); }, "/v1/chat/completions", 1001);
        Assert.True(Compile("""{"params.model": "gpt-4o", "params.n": 1}""").Matches(context));
        Assert.True(Compile("""{"params.messages.0.role": "system"}""").Matches(context));
        Assert.True(Compile("""{"request.estimated_tokens": 15, "request.estimated_cost": {"$gt": 0}}""").Matches(context));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void CompiledQueryOutlivesItsDocument()
    {
        ConditionQuery? compiled;
        using (var document = JsonDocument.Parse("""{"params.model": {"$in": ["gpt-4o"]}, "metadata.team": {"$eq": {"tier": "gold", "size": 12}}}"""))
        {
            compiled = ConditionQuery.Compile(document.RootElement, Prefix, []);
        }
        Assert.NotNull(compiled);
        Assert.True(compiled.Matches(Context(Metadata, Body, "/", 1)));
    }

    [Fact]
    public void RegexMatchTimeoutCountsAsNoMatch()
    {
        var compiled = Compile("""{"metadata.text": {"$regex": "^(\\w+\\s?)*$"}}""");
        var context = Context($$"""{"text": "{{new string('a', 5000)}}!"}""", "{}", "/", 1);
        var clock = Stopwatch.StartNew();
        Assert.False(compiled.Matches(context));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("""[]""", "", "A query must be a JSON object.")]
    [InlineData("""  "metadata.x"  """, "", "A query must be a JSON object.")]
    [InlineData("""{"foo.bar": 1}""", ".foo.bar", "unknown root")]
    [InlineData("""{"model": "gpt-4o"}""", ".model", "unknown root")]
    [InlineData("""{"headers.x-team": "a"}""", ".headers.x-team", "unknown root")]
    [InlineData("""{"metadata": 1}""", ".metadata", "must name a field")]
    [InlineData("""{"params": 1}""", ".params", "must name a field")]
    [InlineData("""{"params.": 1}""", ".params.", "empty path segment")]
    [InlineData("""{"metadata..team": 1}""", ".metadata..team", "empty path segment")]
    [InlineData("""{"url.host": "x"}""", ".url.host", "'url.pathname'")]
    [InlineData("""{"url.pathname.x": "x"}""", ".url.pathname.x", "'url.pathname'")]
    [InlineData("""{"request.size": 1}""", ".request.size", "'request.body_bytes'")]
    [InlineData("""{"$not": [{}]}""", ".$not", "Unknown logical operator '$not'")]
    [InlineData("""{"metadata.a": 1, "metadata.a": 2}""", ".metadata.a", "more than once")]
    [InlineData("""{"params.model": {"$like": "gpt"}}""", ".params.model.$like", "Unknown operator '$like'")]
    [InlineData("""{"params.model": {"$and": []}}""", ".params.model.$and", "Unknown operator '$and'")]
    [InlineData("""{"metadata.team": {"tier": "gold"}}""", ".metadata.team.tier", "{\"$eq\": {...}}")]
    [InlineData("""{"params.model": {}}""", ".params.model", "operator object is empty")]
    [InlineData("""{"params.model": {"$in": "gpt-4o"}}""", ".params.model.$in", "$in needs an array")]
    [InlineData("""{"params.model": {"$nin": {"a": 1}}}""", ".params.model.$nin", "$nin needs an array")]
    [InlineData("""{"params.model": {"$regex": "("}}""", ".params.model.$regex", "Invalid regular expression")]
    [InlineData("""{"params.model": {"$regex": 5}}""", ".params.model.$regex", "string pattern")]
    [InlineData("""{"params.n": {"$gt": "abc"}}""", ".params.n.$gt", "$gt needs a number")]
    [InlineData("""{"params.n": {"$gte": null}}""", ".params.n.$gte", "$gte needs a number")]
    [InlineData("""{"params.n": {"$lt": [1]}}""", ".params.n.$lt", "$lt needs a number")]
    [InlineData("""{"params.n": {"$lte": true}}""", ".params.n.$lte", "$lte needs a number")]
    [InlineData("""{"params.n": {"$exists": "yes"}}""", ".params.n.$exists", "true or false")]
    [InlineData("""{"params.messages": {"$length": "2"}}""", ".params.messages.$length", "$length needs a number or an operator object")]
    [InlineData("""{"params.messages": {"$length": {}}}""", ".params.messages.$length", "operator object is empty")]
    [InlineData("""{"params.messages": {"$length": {"$gt": "x"}}}""", ".params.messages.$length.$gt", "$gt needs a number")]
    [InlineData("""{"params.messages": {"$length": {"$size": 1}}}""", ".params.messages.$length.$size", "Unknown operator '$size'")]
    [InlineData("""{"$and": {"metadata.a": 1}}""", ".$and", "$and must be an array of query objects")]
    [InlineData("""{"$or": "metadata.a"}""", ".$or", "$or must be an array of query objects")]
    [InlineData("""{"$or": []}""", ".$or", "at least one")]
    [InlineData("""{"$and": [{"metadata.a": 1}, "x"]}""", ".$and[1]", "must be a query object")]
    [InlineData("""{"$or": [{"metadata.a": 1}, [{"metadata.a": 1}]]}""", ".$or[1]", "must be a query object")]
    [InlineData("""{"$or": [{"metadata.a": 1}, {"params.model": {"$regex": "["}}]}""", ".$or[1].params.model.$regex", "Invalid regular expression")]
    [InlineData("""{"$and": [{"$or": [{"nope.x": 1}]}]}""", ".$and[0].$or[0].nope.x", "unknown root")]
    public void ReportsCompileErrorsWithTheirPath(string query, string pathSuffix, string messageFragment)
    {
        var errors = new List<ConfigError>();
        Assert.Null(ConditionQuery.Compile(Parse(query), Prefix, errors));
        var error = Assert.Single(errors);
        Assert.Equal(Prefix + pathSuffix, error.Path);
        Assert.Contains(messageFragment, error.Message);
    }

    [Fact]
    public void ReportsEveryErrorNotJustTheFirst()
    {
        var errors = new List<ConfigError> { new("earlier", "kept") };
        var compiled = ConditionQuery.Compile(Parse("""
            {"bogus": 1, "params.model": {"$in": 1, "$regex": "("}, "$or": [{"metadata.a": {"$what": 1}}], "metadata.ok": 1}
            """), Prefix, errors);
        Assert.Null(compiled);
        Assert.Equal(
            ["earlier", Prefix + ".bogus", Prefix + ".params.model.$in", Prefix + ".params.model.$regex", Prefix + ".$or[0].metadata.a.$what"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void EmptyPrefixGivesPathsFromTheQueryRoot()
    {
        var errors = new List<ConfigError>();
        Assert.Null(ConditionQuery.Compile(Parse("""{"$or": [{"params.model": {"$in": 1}}]}"""), "", errors));
        Assert.Equal("$or[0].params.model.$in", Assert.Single(errors).Path);
    }

    [Fact]
    public void EarlierErrorsInTheListDoNotFailAValidQuery()
    {
        var errors = new List<ConfigError> { new("earlier", "unrelated") };
        Assert.NotNull(ConditionQuery.Compile(Parse("""{"metadata.user": "alice"}"""), Prefix, errors));
        Assert.Single(errors);
    }

    [Fact]
    public void ContextRejectsNegativeBodyLength()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConditionContext(default, () => default, "/", -1));
    }

    private static ConditionQuery Compile(string query)
    {
        var errors = new List<ConfigError>();
        var compiled = ConditionQuery.Compile(Parse(query), Prefix, errors);
        Assert.Empty(errors);
        return Assert.IsType<ConditionQuery>(compiled);
    }

    private static ConditionContext Context(string metadata, string body, string pathname, long bodyLength)
    {
        var parsedBody = Parse(body);
        return new ConditionContext(Parse(metadata), () => parsedBody, pathname, bodyLength);
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
