using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Sampling, roots and logging are deprecated in 2026-07-28 but are what 2025-11-25 peers speak; the gateway relays them on purpose.
#pragma warning disable MCP9005

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// One upstream connection (an SDK <see cref="McpClient"/>) and the relay state that goes with it: the downstream session it
/// belongs to, the calls in flight (to route server-to-client requests and progress back to the right downstream request),
/// and the rewritten progress tokens. Owned by exactly one downstream session, or leased exclusively from the stateless pool.
/// </summary>
internal sealed class McpUpstreamLink : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (McpRelayCall Call, ProgressToken Token)> _progress = new(StringComparer.Ordinal);
    private readonly List<McpRelayCall> _calls = [];
    private readonly ILogger _logger;
    private long _nextToken;

    private McpUpstreamLink(McpUpstreamServer server, McpRoute route, ILogger logger)
    {
        Server = server;
        Route = route;
        _logger = logger;
    }

    public McpUpstreamServer Server { get; }

    public McpRoute Route { get; }

    public McpClient Client { get; private set; } = null!;

    /// <summary>The legacy-era downstream session (for unsolicited notifications and requests outside a call); null when stateless.</summary>
    public McpServer? Downstream { get; set; }

    private volatile bool _faulted;

    /// <summary>Open, and no request on it failed at the transport level.</summary>
    public bool IsAlive => !_faulted && !Client.Completion.IsCompleted;

    /// <summary>A request on this connection failed at the transport level: it is not reused.</summary>
    public void MarkFaulted() => _faulted = true;

    /// <summary>
    /// Whether <paramref name="server"/> (as the registry holds it now) is still reached the way this connection reaches it; a reload
    /// that moved the server (URL, transport, command, headers) makes the next request connect afresh.
    /// </summary>
    public bool SameEndpoint(McpUpstreamServer server) =>
        ReferenceEquals(server, Server)
        || (server.Url == Server.Url && server.Transport == Server.Transport && server.Command == Server.Command
            && server.Arguments.SequenceEqual(Server.Arguments) && server.WorkingDirectory == Server.WorkingDirectory
            && server.Headers.Count == Server.Headers.Count && server.Headers.All(h => Server.Headers.TryGetValue(h.Key, out var v) && v == h.Value)
            && server.Environment.Count == Server.Environment.Count && server.Environment.All(h => Server.Environment.TryGetValue(h.Key, out var v) && v == h.Value)
            && server.ClientCredentials == Server.ClientCredentials);

    /// <summary>Connects through the connector with client capabilities mirroring <paramref name="downstreamCaps"/>.</summary>
    public static async Task<McpUpstreamLink> ConnectAsync(
        IMcpUpstreamConnector connector, McpUpstreamServer server, McpRoute route, McpCaller caller, ClientCapabilities? downstreamCaps,
        ILogger logger, CancellationToken ct)
    {
        var link = new McpUpstreamLink(server, route, logger);
        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "switchyard-mcp-gateway", Version = "1.0" },
            Capabilities = new ClientCapabilities(),
            InitializationTimeout = server.ConnectTimeout,
        };
        if (downstreamCaps?.Sampling is { } sampling)
        {
            options.Capabilities.Sampling = sampling;
            options.Handlers.SamplingHandler = (p, _, token) => link.RelaySamplingAsync(p, token);
        }
        if (downstreamCaps?.Elicitation is { } elicitation)
        {
            options.Capabilities.Elicitation = elicitation;
            options.Handlers.ElicitationHandler = (p, token) => link.RelayElicitationAsync(p, token);
        }
        if (downstreamCaps?.Roots is { } roots)
        {
            options.Capabilities.Roots = roots;
            options.Handlers.RootsHandler = (p, token) => link.RelayRootsAsync(p, token);
        }
        options.Handlers.NotificationHandlers =
        [
            new(NotificationMethods.ProgressNotification, link.RelayProgressAsync),
            new(NotificationMethods.LoggingMessageNotification, link.RelayToCallOrSessionAsync),
            new(NotificationMethods.ToolListChangedNotification, link.RelayToSessionAsync),
            new(NotificationMethods.PromptListChangedNotification, link.RelayToSessionAsync),
            new(NotificationMethods.ResourceListChangedNotification, link.RelayToSessionAsync),
            new(NotificationMethods.ResourceUpdatedNotification, link.RelayToSessionAsync),
        ];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(server.ConnectTimeout);
        link.Client = await connector.ConnectAsync(server, options, new McpUpstreamContext { Caller = caller }, timeout.Token);
        return link;
    }

    /// <summary>Registers a downstream request in flight on this link until the returned scope is disposed.</summary>
    public McpRelayCall BeginCall(McpServer downstream, bool mrtr)
    {
        var call = new McpRelayCall(this, downstream, mrtr);
        lock (_calls)
        {
            _calls.Add(call);
        }
        return call;
    }

    internal void EndCall(McpRelayCall call)
    {
        lock (_calls)
        {
            _calls.Remove(call);
        }
        if (call.UpstreamProgressToken is { } token)
        {
            _progress.TryRemove(token, out _);
        }
    }

    /// <summary>A fresh upstream progress token standing for the downstream request's own token (id rewriting).</summary>
    public ProgressToken MapProgress(McpRelayCall call, ProgressToken downstreamToken)
    {
        var token = "sy-" + Interlocked.Increment(ref _nextToken).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _progress[token] = (call, downstreamToken);
        call.UpstreamProgressToken = token;
        return new ProgressToken(token);
    }

    private McpRelayCall? CurrentCall()
    {
        lock (_calls)
        {
            return _calls.Count == 0 ? null : _calls[^1];
        }
    }

    private McpServer ServerForRequest(string what)
    {
        var call = CurrentCall();
        return call?.Downstream ?? Downstream
            ?? throw new McpProtocolException($"The downstream client cannot answer {what} outside a tool call", McpErrorCode.InvalidRequest);
    }

    private async ValueTask<CreateMessageResult> RelaySamplingAsync(CreateMessageRequestParams? request, CancellationToken ct)
    {
        request ??= new CreateMessageRequestParams { Messages = [], MaxTokens = 1 };
        if (CurrentCall() is { Mrtr: true } call)
        {
            var response = await call.AskAsync(InputRequest.ForSampling(request), ct);
            return response.Deserialize(InputResponse.CreateMessageResultJsonTypeInfo)
                ?? throw new McpProtocolException("The client sent no sampling result", McpErrorCode.InvalidParams);
        }
        return await ServerForRequest("sampling").SampleAsync(request, ct);
    }

    private async ValueTask<ElicitResult> RelayElicitationAsync(ElicitRequestParams? request, CancellationToken ct)
    {
        request ??= new ElicitRequestParams { Message = "" };
        if (CurrentCall() is { Mrtr: true } call)
        {
            var response = await call.AskAsync(InputRequest.ForElicitation(request), ct);
            return response.Deserialize(InputResponse.ElicitResultJsonTypeInfo)
                ?? throw new McpProtocolException("The client sent no elicitation result", McpErrorCode.InvalidParams);
        }
        return await ServerForRequest("elicitation").ElicitAsync(request, ct);
    }

    private async ValueTask<ListRootsResult> RelayRootsAsync(ListRootsRequestParams? request, CancellationToken ct)
    {
        request ??= new ListRootsRequestParams();
        if (CurrentCall() is { Mrtr: true } call)
        {
            var response = await call.AskAsync(InputRequest.ForRootsList(request), ct);
            return response.Deserialize(InputResponse.ListRootsResultJsonTypeInfo)
                ?? throw new McpProtocolException("The client sent no roots result", McpErrorCode.InvalidParams);
        }
        return await ServerForRequest("roots/list").RequestRootsAsync(request, ct);
    }

    private async ValueTask RelayProgressAsync(JsonRpcNotification notification, CancellationToken ct)
    {
        if (notification.Params?["progressToken"] is not JsonValue tokenValue || !_progress.TryGetValue(tokenValue.ToString(), out var target))
        {
            return;
        }
        var value = new ProgressNotificationValue
        {
            Progress = notification.Params["progress"]?.GetValue<float>() ?? 0,
            Total = notification.Params["total"]?.GetValue<float>(),
            Message = notification.Params["message"]?.GetValue<string>(),
        };
        // Tracked on the call so its result waits for the relay: the SDK dispatches an upstream's messages concurrently, so the
        // last progress notification can still be in flight when the result arrives.
        await target.Call.Track(Swallow(() => target.Call.Downstream.NotifyProgressAsync(target.Token, value, cancellationToken: ct), notification.Method));
    }

    private ValueTask RelayToCallOrSessionAsync(JsonRpcNotification notification, CancellationToken ct)
    {
        var server = CurrentCall()?.Downstream ?? Downstream;
        return server is null ? ValueTask.CompletedTask : new(Swallow(() => server.SendMessageAsync(Copy(notification), ct), notification.Method));
    }

    private ValueTask RelayToSessionAsync(JsonRpcNotification notification, CancellationToken ct)
    {
        // Unsolicited notifications need a session to go to: a stateless (2026-07-28) downstream request has none, so they drop.
        var server = Downstream;
        return server is null ? ValueTask.CompletedTask : new(Swallow(() => server.SendMessageAsync(Copy(notification), ct), notification.Method));
    }

    private JsonRpcNotification Copy(JsonRpcNotification notification)
    {
        var parameters = notification.Params?.DeepClone();
        if (Route.Prefixed && notification.Method == NotificationMethods.ResourceUpdatedNotification && parameters?["uri"] is JsonValue uri)
        {
            parameters["uri"] = McpProxySession.ExposeUri(Route, Server, uri.ToString());
        }
        return new JsonRpcNotification { Method = notification.Method, Params = parameters };
    }

    private async Task Swallow(Func<Task> send, string method)
    {
        try
        {
            await send();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogDebug(e, "MCP relay of {Method} from upstream {Server} to the downstream client failed", method, Server.Id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client is not null)
            {
                await Client.DisposeAsync();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogDebug(e, "Closing the upstream MCP session to {Server} failed", Server.Id);
        }
    }
}

/// <summary>
/// One downstream request in flight on an upstream link. For a 2026-07-28 downstream tool call (<see cref="Mrtr"/>), an upstream
/// server-to-client request becomes an input request the handler answers with <c>InputRequiredResult</c>; the client's retry
/// completes it.
/// </summary>
internal sealed class McpRelayCall(McpUpstreamLink link, McpServer downstream, bool mrtr) : IDisposable
{
    private TaskCompletionSource<(InputRequest Request, TaskCompletionSource<InputResponse> Answer)> _nextInput = New();
    private int _round;

    public McpUpstreamLink Link => link;

    public McpServer Downstream { get; set; } = downstream;

    public bool Mrtr => mrtr;

    public string? UpstreamProgressToken { get; set; }

    /// <summary>Completes when the upstream asks the client something (MRTR only).</summary>
    public Task<(InputRequest Request, TaskCompletionSource<InputResponse> Answer)> NextInput
    {
        get
        {
            lock (this)
            {
                return _nextInput.Task;
            }
        }
    }

    /// <summary>The key of the current input request, unique per round.</summary>
    public string CurrentKey { get; private set; } = "";

    public async Task<InputResponse> AskAsync(InputRequest request, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<InputResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (this)
        {
            CurrentKey = "input-" + (++_round).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _nextInput.TrySetResult((request, answer));
        }
        return await answer.Task.WaitAsync(ct);
    }

    /// <summary>Arms the next round after the client answered the current one.</summary>
    public void Rearm()
    {
        lock (this)
        {
            _nextInput = New();
        }
    }

    private static TaskCompletionSource<(InputRequest, TaskCompletionSource<InputResponse>)> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly List<Task> _relays = [];

    /// <summary>How long a result waits for late progress notifications of its call.</summary>
    public static readonly TimeSpan ProgressGrace = TimeSpan.FromMilliseconds(25);

    /// <summary>Remembers a relay to the downstream request so <see cref="DrainAsync"/> can wait for it.</summary>
    public Task Track(Task relay)
    {
        lock (_relays)
        {
            _relays.RemoveAll(t => t.IsCompleted);
            _relays.Add(relay);
        }
        return relay;
    }

    /// <summary>
    /// Lets progress that arrived before the result finish relaying before the result is answered. The SDK client dispatches an
    /// upstream's messages concurrently, so the last progress notification's handler may start just after the result is
    /// delivered: a call that carries a progress token waits a short grace (<see cref="ProgressGrace"/>) first.
    /// </summary>
    public async Task DrainAsync()
    {
        if (UpstreamProgressToken is null)
        {
            return;
        }
        await Task.Delay(ProgressGrace);
        Task[] pending;
        lock (_relays)
        {
            pending = [.. _relays];
        }
        await Task.WhenAll(pending);
    }

    public void Dispose() => link.EndCall(this);
}
