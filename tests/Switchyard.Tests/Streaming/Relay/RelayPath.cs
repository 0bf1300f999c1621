using System.Text.Json.Nodes;
using Switchyard.Core;
using Switchyard.Core.Caching;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Bedrock;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Bedrock;
using Xunit;

namespace Switchyard.Tests.Streaming.Relay;

/// <summary>
/// One way a stream travels through the gateway — client protocol, target provider, cache on or off — with its
/// simulator in step mode, the gateway pointed at it, and what the simulator's stream looks like: after upstream
/// event <c>i</c> the simulator has sent <see cref="WordsAfter"/>(i) words of its answer <c>echo: &lt;prompt&gt;</c>.
/// </summary>
internal sealed class RelayPath : IAsyncDisposable
{
    /// <summary>Generous bound for anything the tests wait for; never a sleep.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    public const string CacheConfig = """{"cache":{"mode":"simple"}}""";

    private const string AnthropicKey = "sk-ant-relay";

    private readonly List<IAsyncDisposable> _owned = [];
    private Action<bool> _setStepMode = null!;
    private Action _release = null!;
    private Func<int, TimeSpan, Task> _waitForEvents = null!;
    private Func<IReadOnlyList<RecordedRequest>> _requests = null!;
    private Func<string, HttpRequestMessage> _request = null!;
    private Func<int, int> _wordsAfter = null!;

    private RelayPath(string name)
    {
        Name = name;
        Cached = name.EndsWith("+cache", StringComparison.Ordinal);
    }

    /// <summary>Every path the relay serves: the default chat path, translated streams, /v1/messages, /v1/responses, and the cache's write-through.</summary>
    public static readonly string[] Names =
    [
        "chat>openai",
        "chat>anthropic",
        "chat>bedrock",
        "chat>google",
        "messages>anthropic",
        "messages>openai",
        "responses>openai",
        "responses>anthropic",
        "chat>openai+cache",
        "chat>anthropic+cache",
        "messages>anthropic+cache",
        "responses>openai+cache",
    ];

    public string Name { get; }

    public bool Cached { get; }

    public TestGateway Gateway { get; private set; } = null!;

    /// <summary>The model calls the simulator received (token and STS calls excluded).</summary>
    public IReadOnlyList<RecordedRequest> ModelRequests => _requests();

    public bool StepMode
    {
        set => _setStepMode(value);
    }

    public static string ExpectedText(string prompt) => "echo: " + prompt;

    /// <summary>Words of the answer the simulator has sent after <paramref name="events"/> events.</summary>
    public int WordsAfter(int events, string prompt) =>
        Math.Clamp(_wordsAfter(events), 0, ExpectedText(prompt).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

    public void ReleaseNextEvent() => _release();

    /// <summary>True when <paramref name="task"/> completes within <paramref name="bound"/>.</summary>
    public static async Task<bool> CompletesWithinAsync(Task task, TimeSpan bound)
    {
        try
        {
            await task.WaitAsync(bound);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public static async Task<RelayPath> StartAsync(string name, CacheOptions? cache = null)
    {
        var path = new RelayPath(name);
        try
        {
            await path.StartCoreAsync(cache);
            return path;
        }
        catch
        {
            await path.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(CacheOptions? cache)
    {
        var baseUrls = new Dictionary<string, string>();
        var route = Name.Split('+')[0];
        var (protocol, provider) = (route.Split('>')[0], route.Split('>')[1]);
        (string, string)[] headers;
        string model;
        switch (provider)
        {
            case "openai":
            {
                var sim = await OpenAiSimulator.StartAsync();
                _owned.Add(sim);
                Bind(v => sim.StepMode = v, sim.ReleaseNextEvent, sim.WaitForEventsSentAsync, () => sim.Requests);
                model = "gpt-4o-mini";
                headers = protocol == "messages"
                    ? [("x-portkey-provider", "openai"), ("x-api-key", "sk-anthropic-client"), ("anthropic-version", "2023-06-01"), ("x-portkey-custom-host", sim.BaseUrl.ToString())]
                    : Requests.HeaderMode(sim.BaseUrl);
                // Chat chunks: role chunk, one word each, finish, (usage), [DONE]. Responses: created, in_progress,
                // output_item.added, content_part.added, one word each, then the done events and completed.
                _wordsAfter = protocol == "responses" ? i => i - 4 : i => i - 1;
                break;
            }
            case "anthropic":
            {
                var sim = await AnthropicSimulator.StartAsync();
                sim.RequiredApiKey = AnthropicKey;
                _owned.Add(sim);
                baseUrls["anthropic"] = sim.BaseUrl.ToString();
                Bind(v => sim.StepMode = v, sim.ReleaseNextEvent, sim.WaitForEventsSentAsync, () => sim.Requests);
                model = "claude-sonnet-4-5";
                headers = protocol == "messages"
                    ? [("x-portkey-provider", "anthropic"), ("x-api-key", AnthropicKey), ("anthropic-version", "2023-06-01")]
                    : [("x-portkey-provider", "anthropic"), ("Authorization", "Bearer " + AnthropicKey)];
                // message_start, ping, content_block_start, then one text_delta per word.
                _wordsAfter = i => i - 3;
                break;
            }
            case "bedrock":
            {
                var sim = await BedrockSimulator.StartAsync();
                sim.AddKey(BedrockHarness.KeyId, BedrockHarness.Secret);
                _owned.Add(sim);
                baseUrls["bedrock"] = sim.BaseUrlTemplate;
                Bind(v => sim.StepMode = v, sim.ReleaseNextEvent, sim.WaitForEventsSentAsync, () => sim.Requests);
                model = BedrockHarness.Model;
                headers = BedrockHarness.Headers();
                // messageStart, then contentBlockDelta frames of two words each.
                _wordsAfter = i => 2 * (i - 1);
                break;
            }
            case "google":
            {
                var sim = await GoogleSimulator.StartAsync();
                _owned.Add(sim);
                baseUrls["google"] = sim.BaseUrl;
                Bind(v => sim.StepMode = v, sim.ReleaseNextEvent, sim.WaitForEventsSentAsync, () => sim.ModelRequests);
                model = "gemini-2.5-flash";
                headers = [("x-portkey-provider", "google"), ("Authorization", "Bearer " + sim.ApiKey)];
                // One word per streamGenerateContent event, the last with the finish reason and usage.
                _wordsAfter = i => i;
                break;
            }
            default:
                throw new ArgumentException($"unknown provider in path {Name}");
        }

        if (Cached)
        {
            headers = [.. headers, ("x-portkey-config", CacheConfig)];
        }
        var endpoint = protocol switch
        {
            "chat" => "/v1/chat/completions",
            "messages" => "/v1/messages",
            "responses" => "/v1/responses",
            _ => throw new ArgumentException($"unknown protocol in path {Name}"),
        };
        _request = prompt =>
        {
            var body = protocol switch
            {
                // The default client path: no stream_options, so the gateway adds include_usage upstream and hides the usage chunk again.
                "chat" => new JsonObject { ["model"] = model, ["stream"] = true, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) },
                "messages" => new JsonObject { ["model"] = model, ["max_tokens"] = 200, ["stream"] = true, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) },
                _ => new JsonObject { ["model"] = model, ["stream"] = true, ["input"] = prompt },
            };
            return TestGateway.Post(endpoint, body.ToJsonString(), headers);
        };

        Gateway = await TestGateway.StartAsync(settings: s => s with
        {
            Upstream = s.Upstream with { BaseUrls = baseUrls },
            Cache = cache ?? s.Cache,
        });
    }

    private void Bind(Action<bool> setStepMode, Action release, Func<int, TimeSpan, Task> waitForEvents, Func<IReadOnlyList<RecordedRequest>> requests)
    {
        _setStepMode = setStepMode;
        _release = release;
        _waitForEvents = waitForEvents;
        _requests = requests;
    }

    /// <summary>Opens the stream for <paramref name="prompt"/> on a client connection of its own.</summary>
    public async Task<ClientStream> OpenAsync(string prompt)
    {
        var stream = await ClientStream.OpenAsync(Gateway.BaseUrl, _request(prompt), Bound);
        if (!stream.Response.IsSuccessStatusCode)
        {
            await stream.WaitUntilAsync(c => c.Ended, Bound);
            Assert.Fail($"{Name}: {(int)stream.Response.StatusCode} {string.Concat(stream.Events)}");
        }
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        return stream;
    }

    /// <summary>Sends the request for <paramref name="prompt"/> and reads the whole answer (no stepping).</summary>
    public async Task<(HttpResponseMessage Response, string Body)> AskAsync(string prompt)
    {
        var response = await Gateway.SendAsync(_request(prompt));
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Steps the simulator one event at a time. After each event that carries text, the client must have that text
    /// while the simulator is still parked before the next event; events without text (a ping, a block start) are
    /// released without a check. Stops after the text reached <paramref name="stopAtWords"/> words, or at the end of
    /// the upstream stream. Returns the number of text events checked.
    /// </summary>
    public async Task<int> RelayEventByEventAsync(ClientStream client, string prompt, int? stopAtWords = null)
    {
        RecordedRequest? upstream = null;
        var words = 0;
        var textEvents = 0;
        for (var i = 1; ; i++)
        {
            var sent = _waitForEvents(i, Bound);
            if (upstream is not null)
            {
                // Either the simulator sends event i, or its stream ended with i - 1 events.
                if (await Task.WhenAny(sent, upstream.Completion) != sent && upstream.EventsSent < i)
                {
                    _ = sent.ContinueWith(t => t.Exception, TaskScheduler.Default);
                    Assert.False(upstream.Aborted, $"{Name}: the upstream stream was aborted after {i - 1} events");
                    return textEvents;
                }
            }
            await sent;
            upstream ??= ModelRequests[^1];
            Assert.Equal(i, upstream.EventsSent);

            var expected = WordsAfter(i, prompt);
            if (expected > words)
            {
                var arrived = await client.WaitUntilAsync(c => c.Words >= expected, Bound);
                Assert.True(arrived,
                    $"{Name}: upstream event {i} was held back: the simulator has sent {expected} words and waits to send event {i + 1}, "
                    + $"the client has {client.Words} words after {Bound.TotalSeconds} s (text \"{client.Text}\", ended {client.Ended}, failure {client.Failure?.Message})");
                // Still parked: the client got the text without the next event existing.
                Assert.Equal(i, upstream.EventsSent);
                words = expected;
                textEvents++;
                if (words >= stopAtWords)
                {
                    return textEvents;
                }
            }
            ReleaseNextEvent();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_setStepMode is not null)
        {
            // Let any parked stream go before the servers stop.
            _setStepMode(false);
        }
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
