using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Sampling, roots and logging are deprecated in 2026-07-28 but are what 2025-11-25 peers speak; the gateway relays them on purpose.
#pragma warning disable MCP9005

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// The proxy side of one downstream session (legacy era: lives as long as the SDK session; 2026-07-28: one request). Holds the
/// upstream links (stateful: one lazily connected <c>McpClient</c> per member, never shared; stateless: leased from
/// <see cref="McpUpstreamPool"/>) and implements every MCP request handler by relaying to the member(s).
/// </summary>
internal sealed class McpProxySession : IAsyncDisposable
{
    /// <summary>The <c>_meta</c> key of an aggregated list naming the members that were left out because they failed.</summary>
    public const string UnavailableMetaKey = "switchyard/unavailable";

    private readonly McpProxy _proxy;
    private readonly Dictionary<string, Task<McpUpstreamLink>> _links = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public McpProxySession(McpProxy proxy, McpRoute route, McpCaller caller, ClientCapabilities? clientCapabilities, bool stateless, string? sessionId, string? protocolVersion)
    {
        _proxy = proxy;
        _logger = proxy.Logger;
        Route = route;
        Caller = caller;
        ClientCapabilities = clientCapabilities;
        Stateless = stateless;
        SessionId = sessionId;
        ProtocolVersion = protocolVersion;
    }

    public McpRoute Route { get; }

    public McpCaller Caller { get; }

    public ClientCapabilities? ClientCapabilities { get; }

    public bool Stateless { get; }

    public string? SessionId { get; }

    public string? ProtocolVersion { get; }

    private McpServer? _downstream;

    /// <summary>Binds the SDK's server for this session (legacy era), so unsolicited upstream notifications have somewhere to go.</summary>
    public void Attach(McpServer server)
    {
        _downstream = server;
        lock (_links)
        {
            foreach (var task in _links.Values)
            {
                if (task.IsCompletedSuccessfully)
                {
                    task.Result.Downstream = server;
                }
            }
        }
    }

    // ---- set-up --------------------------------------------------------------------------------------------------

    /// <summary>Connects (or learns) every member, then sets the server capabilities to their union and installs the handlers.</summary>
    public async Task ConfigureAsync(McpServerOptions options, CancellationToken ct)
    {
        var learned = await Task.WhenAll(Route.Upstreams.Select(async server =>
        {
            try
            {
                if (Stateless)
                {
                    return (server, await _proxy.Pool.CapabilitiesAsync(Caller, Route, server, ClientCapabilities, _logger, ct), (string?)null);
                }
                var link = await GetLinkAsync(server, ct);
                return (server, link.Client.ServerCapabilities, link.Client.ServerInstructions);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _logger.LogWarning("MCP upstream {Server} of route {Route} is unavailable at session start: {Error}", server.Id, Route.Path, Unwrap(e).Message);
                _proxy.CountUnavailable();
                return (server, (ServerCapabilities?)null, (string?)null);
            }
        }));
        var known = learned.Where(l => l.Item2 is not null).Select(l => l.Item2!).ToList();
        // Nothing reachable: advertise everything so requests get clean "unavailable" errors instead of a server that offers nothing.
        var all = known.Count == 0;
        bool Any(Func<ServerCapabilities, bool> has) => all || known.Any(has);

        options.ServerInfo = new Implementation { Name = "switchyard-mcp-gateway", Title = "Switchyard MCP gateway: " + Route.Path, Version = "1.0" };
        if (!Route.Prefixed && learned.Length == 1 && learned[0].Item3 is { } instructions)
        {
            options.ServerInstructions = instructions;
        }
        var listChanged = !Stateless;
        var caps = new ServerCapabilities();
        if (Any(c => c.Tools is not null))
        {
            caps.Tools = new ToolsCapability { ListChanged = listChanged && Any(c => c.Tools?.ListChanged == true) ? true : null };
            options.Handlers.ListToolsHandler = ListToolsAsync;
            options.Handlers.CallToolHandler = CallToolAsync;
        }
        if (Any(c => c.Prompts is not null))
        {
            caps.Prompts = new PromptsCapability { ListChanged = listChanged && Any(c => c.Prompts?.ListChanged == true) ? true : null };
            options.Handlers.ListPromptsHandler = ListPromptsAsync;
            options.Handlers.GetPromptHandler = GetPromptAsync;
        }
        if (Any(c => c.Resources is not null))
        {
            var subscribe = !Stateless && Any(c => c.Resources?.Subscribe == true);
            caps.Resources = new ResourcesCapability
            {
                ListChanged = listChanged && Any(c => c.Resources?.ListChanged == true) ? true : null,
                Subscribe = subscribe ? true : null,
            };
            options.Handlers.ListResourcesHandler = ListResourcesAsync;
            options.Handlers.ListResourceTemplatesHandler = ListResourceTemplatesAsync;
            options.Handlers.ReadResourceHandler = ReadResourceAsync;
            if (subscribe)
            {
                options.Handlers.SubscribeToResourcesHandler = SubscribeAsync;
                options.Handlers.UnsubscribeFromResourcesHandler = UnsubscribeAsync;
            }
        }
        if (Any(c => c.Completions is not null))
        {
            caps.Completions = new CompletionsCapability();
            options.Handlers.CompleteHandler = CompleteAsync;
        }
        if (Any(c => c.Logging is not null))
        {
            caps.Logging = new LoggingCapability();
            options.Handlers.SetLoggingLevelHandler = SetLevelAsync;
        }
        options.Capabilities = caps;
        options.Handlers.NotificationHandlers =
        [
            new(NotificationMethods.RootsListChangedNotification, RelayRootsChangedAsync),
        ];
    }

    // ---- upstream access ----------------------------------------------------------------------------------------

    private Task<McpUpstreamLink> GetLinkAsync(McpUpstreamServer server, CancellationToken ct)
    {
        lock (_links)
        {
            if (_links.TryGetValue(server.Id, out var existing) && !(existing.IsFaulted || existing.IsCanceled
                || (existing.IsCompletedSuccessfully && (!existing.Result.IsAlive || !existing.Result.SameEndpoint(server)))))
            {
                return existing;
            }
            if (existing is { IsCompletedSuccessfully: true })
            {
                _ = existing.Result.DisposeAsync().AsTask();
            }
            // Not tied to one request's cancellation: the connection outlives the request that opened it.
            var task = ConnectAsync(server);
            _links[server.Id] = task;
            return task.WaitAsync(ct);
        }
    }

    private async Task<McpUpstreamLink> ConnectAsync(McpUpstreamServer server)
    {
        await Task.Yield();
        var link = await McpUpstreamLink.ConnectAsync(_proxy.Connector, server, Route, Caller, ClientCapabilities, _logger, CancellationToken.None);
        link.Downstream = _downstream;
        return link;
    }

    private sealed class Lease(McpUpstreamLink link, Func<ValueTask>? release) : IAsyncDisposable
    {
        public McpUpstreamLink Link => link;

        public ValueTask DisposeAsync() => release?.Invoke() ?? ValueTask.CompletedTask;
    }

    private async Task<Lease> AcquireAsync(McpUpstreamServer server, CancellationToken ct)
    {
        try
        {
            if (!Stateless)
            {
                return new Lease(await GetLinkAsync(server, ct), null);
            }
            var link = await _proxy.Pool.RentAsync(Caller, Route, server, ClientCapabilities, _logger, ct);
            return new Lease(link, () => _proxy.Pool.ReturnAsync(Caller, Route, server, ClientCapabilities, link));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw Failure($"Upstream server '{server.Id}' is unavailable: {Unwrap(e).Message}", "upstream_unavailable", e);
        }
    }

    /// <summary>Runs one upstream request under the server's <see cref="McpUpstreamServer.RequestTimeout"/>, cancelling it upstream on timeout.</summary>
    private static async Task<T> UpstreamAsync<T>(McpUpstreamServer server, Lease lease, CancellationToken ct, Func<CancellationToken, Task<T>> send)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(server.RequestTimeout);
        try
        {
            return await send(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Failure($"Upstream server '{server.Id}' did not answer within {server.RequestTimeout.TotalSeconds:0.###} s", "timeout", null);
        }
        catch (McpProtocolException)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The connection itself failed (the server restarted, its session is gone): the next request opens a new one.
            lease.Link.MarkFaulted();
            throw Failure($"Upstream server '{server.Id}' is unavailable: {Unwrap(e).Message}", "upstream_unavailable", e);
        }
    }

    private static McpProtocolException Failure(string message, string outcome, Exception? inner)
    {
        var e = inner is null ? new McpProtocolException(message, McpErrorCode.InternalError) : new McpProtocolException(message, inner, McpErrorCode.InternalError);
        e.Data["switchyard.outcome"] = outcome;
        return e;
    }

    private static McpProtocolException Denied(string message)
    {
        var e = new McpProtocolException(message, McpErrorCode.InvalidParams);
        e.Data["switchyard.outcome"] = "denied";
        return e;
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerException: { } inner } ? inner : e;

    /// <summary>The request's <c>_meta</c> minus the progress token (rewritten separately) and the per-request protocol keys of the downstream era.</summary>
    private static JsonObject? ForwardMeta(JsonObject? meta)
    {
        if (meta is null)
        {
            return null;
        }
        JsonObject? copy = null;
        foreach (var (key, value) in meta)
        {
            if (key == "progressToken" || key.StartsWith("io.modelcontextprotocol/", StringComparison.Ordinal))
            {
                continue;
            }
            (copy ??= [])[key] = value?.DeepClone();
        }
        return copy;
    }

    // ---- names and URIs -----------------------------------------------------------------------------------------

    public static string ExposeUri(McpRoute route, McpUpstreamServer server, string uri) => route.Prefixed ? server.Name + "+" + uri : uri;

    private bool TryResolveUri(string exposed, out McpUpstreamServer server, out string uri)
    {
        if (!Route.Prefixed)
        {
            server = Route.Upstreams[0];
            uri = exposed;
            return true;
        }
        foreach (var candidate in Route.Upstreams)
        {
            if (exposed.Length > candidate.Name.Length + 1 && exposed.StartsWith(candidate.Name, StringComparison.Ordinal) && exposed[candidate.Name.Length] == '+')
            {
                server = candidate;
                uri = exposed[(candidate.Name.Length + 1)..];
                return true;
            }
        }
        server = null!;
        uri = "";
        return false;
    }

    // ---- aggregation --------------------------------------------------------------------------------------------

    private sealed record Page<T>(List<(McpUpstreamServer Server, IList<T> Items)> Results, string? NextCursor, JsonObject? Meta);

    /// <summary>
    /// One page of a list over the route's members. A single upstream passes its cursor through and its failure is the
    /// request's error. An aggregate asks every member still paging (composite cursor), leaves a failing member out
    /// (fail-open: logged, counted, named under <see cref="UnavailableMetaKey"/> in the result's <c>_meta</c>).
    /// </summary>
    private async Task<Page<T>> ListAsync<T>(string? cursor, Func<ServerCapabilities, bool> supports,
        Func<McpUpstreamLink, string?, CancellationToken, Task<(IList<T> Items, string? Next)>> list, CancellationToken ct)
    {
        if (!Route.Prefixed)
        {
            var server = Route.Upstreams[0];
            await using var lease = await AcquireAsync(server, ct);
            var (items, next) = await UpstreamAsync(server, lease, ct, t => list(lease.Link, cursor, t));
            return new Page<T>([(server, items)], next, null);
        }
        var cursors = cursor is null ? null : McpCompositeCursor.Decode(cursor);
        var members = Route.Upstreams.Where(u => cursors is null || cursors.ContainsKey(u.Id)).ToList();
        var unavailable = new List<string>();
        var results = await Task.WhenAll(members.Select(async server =>
        {
            try
            {
                await using var lease = await AcquireAsync(server, ct);
                if (!supports(lease.Link.Client.ServerCapabilities))
                {
                    return (server, (IList<T>)[], (string?)null, true);
                }
                var (items, next) = await UpstreamAsync(server, lease, ct, t => list(lease.Link, cursors?[server.Id], t));
                return (server, items, next, true);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _logger.LogWarning("MCP upstream {Server} left out of route {Route}'s list: {Error}", server.Id, Route.Path, e.Message);
                _proxy.CountUnavailable();
                lock (unavailable)
                {
                    unavailable.Add(server.Id);
                }
                return (server, (IList<T>)[], (string?)null, false);
            }
        }));
        var nextCursors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (server, _, next, _) in results)
        {
            if (next is not null)
            {
                nextCursors[server.Id] = next;
            }
        }
        JsonObject? meta = unavailable.Count == 0 ? null : new JsonObject { [UnavailableMetaKey] = new JsonArray(unavailable.Select(u => (JsonNode)JsonValue.Create(u)!).ToArray()) };
        return new Page<T>(results.Select(r => (r.server, r.Item2)).ToList(), McpCompositeCursor.Encode(nextCursors), meta);
    }

    private List<T> Merge<T>(Page<T> page, Func<McpUpstreamServer, T, string> name, Action<T, string> rename, string kind)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var merged = new List<T>();
        foreach (var (server, items) in page.Results)
        {
            foreach (var item in items)
            {
                var exposed = name(server, item);
                if (!seen.Add(exposed))
                {
                    _proxy.CountCollision();
                    _logger.LogWarning("MCP route {Route}: {Kind} '{Name}' from {Server} collides with an earlier member's; the first one wins", Route.Path, kind, exposed, server.Id);
                    continue;
                }
                if (Route.Prefixed)
                {
                    rename(item, exposed);
                }
                merged.Add(item);
            }
        }
        return merged;
    }

    // ---- handlers -----------------------------------------------------------------------------------------------

    private ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> rc, CancellationToken ct) =>
        ObserveAsync(rc, null, null, async () =>
        {
            var page = await ListAsync<Tool>(rc.Params?.Cursor, c => c.Tools is not null, async (link, cursor, t) =>
            {
                var result = await link.Client.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, t);
                var allowed = result.Tools.Where(tool => _proxy.Policy.AllowsTool(Caller, link.Server, tool.Name)).ToList();
                return ((IList<Tool>)_proxy.Policy.ReviewDefinitions(link.Server, allowed).ToList(), result.NextCursor);
            }, ct);
            return new ListToolsResult { Tools = Merge(page, (s, tool) => Route.Expose(s, tool.Name), (tool, n) => tool.Name = n, "tool"), NextCursor = page.NextCursor, Meta = page.Meta };
        });

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing tools/call parameters", McpErrorCode.InvalidParams);
        if (Stateless && p.RequestState is { } state)
        {
            var entry = _proxy.Pending.Take(state, Caller.Id, Route.Path)
                ?? throw new McpProtocolException("Unknown or expired requestState (a retry must reach the same gateway instance)", McpErrorCode.InvalidParams);
            return await ObserveAsync(rc, entry.Call.Link.Server.Id, p.Name, () => ResumeAsync(rc, entry, ct));
        }
        if (!Route.TryResolveName(p.Name, out var server, out var name))
        {
            return await ObserveAsync(rc, null, p.Name, Task<CallToolResult> () => throw new McpProtocolException($"Unknown tool: '{p.Name}'", McpErrorCode.InvalidParams));
        }
        return await ObserveAsync(rc, server.Id, name, async () =>
        {
            if (!_proxy.Policy.AllowsTool(Caller, server, name))
            {
                throw Denied($"Tool '{name}' is not allowed on server '{server.Id}'");
            }
            if (_proxy.Policy.IsBlockedByPin(server, name, out var pinMessage))
            {
                throw Denied(string.IsNullOrEmpty(pinMessage) ? $"Tool '{name}' of server '{server.Id}' changed its definition and is blocked until the pin is accepted" : pinMessage);
            }
            var lease = await AcquireAsync(server, ct);
            var call = lease.Link.BeginCall(rc.Server, mrtr: Stateless);
            var upstreamParams = new CallToolRequestParams { Name = name, Arguments = p.Arguments, Meta = ForwardMeta(p.Meta) };
            if (p.ProgressToken is { } token)
            {
                upstreamParams.Meta ??= [];
                upstreamParams.Meta["progressToken"] = lease.Link.MapProgress(call, token).ToString();
            }
            if (!Stateless)
            {
                try
                {
                    var result = await UpstreamAsync(server, lease, ct, t => lease.Link.Client.CallToolAsync(upstreamParams, t).AsTask());
                    await call.DrainAsync();
                    return result;
                }
                finally
                {
                    call.Dispose();
                    await lease.DisposeAsync();
                }
            }
            // 2026-07-28: the upstream call may outlive this request (MRTR rounds), so it has its own cancellation.
            var callCts = new CancellationTokenSource();
            var upstream = UpstreamAsync(server, lease, callCts.Token, t => lease.Link.Client.CallToolAsync(upstreamParams, t).AsTask());
            var released = 0;
            var entry = new McpPendingCalls.PendingEntry(Caller.Id, Route.Path, call, upstream, async () =>
            {
                if (Interlocked.Exchange(ref released, 1) == 0)
                {
                    call.Dispose();
                    callCts.Dispose();
                    await lease.DisposeAsync();
                }
            })
            { Cancel = callCts.Cancel };
            return await DriveAsync(entry, ct);
        });
    }

    private async Task<CallToolResult> ResumeAsync(RequestContext<CallToolRequestParams> rc, McpPendingCalls.PendingEntry entry, CancellationToken ct)
    {
        if (entry.Answer is null || rc.Params?.InputResponses is not { } responses || !responses.TryGetValue(entry.Call.CurrentKey, out var response))
        {
            entry.Cancel();
            await entry.Release();
            throw new McpProtocolException($"The retry carries no input response for '{entry.Call.CurrentKey}'", McpErrorCode.InvalidParams);
        }
        entry.Call.Downstream = rc.Server;
        entry.Call.Rearm();
        entry.Answer.TrySetResult(response);
        return await DriveAsync(entry, ct);
    }

    /// <summary>Waits for the upstream result or its next question; a question parks the call and answers InputRequiredResult.</summary>
    private async Task<CallToolResult> DriveAsync(McpPendingCalls.PendingEntry entry, CancellationToken ct)
    {
        Task done;
        using (ct.Register(entry.Cancel))
        {
            done = await Task.WhenAny(entry.Upstream, entry.Call.NextInput);
        }
        if (done == entry.Upstream)
        {
            try
            {
                var result = await entry.Upstream;
                await entry.Call.DrainAsync();
                return result;
            }
            finally
            {
                await entry.Release();
            }
        }
        var (request, answer) = await entry.Call.NextInput;
        var key = entry.Call.CurrentKey;
        var state = _proxy.Pending.Park(entry with { Answer = answer });
        throw new InputRequiredException(new Dictionary<string, InputRequest> { [key] = request }, state);
    }

    private ValueTask<ListPromptsResult> ListPromptsAsync(RequestContext<ListPromptsRequestParams> rc, CancellationToken ct) =>
        ObserveAsync(rc, null, null, async () =>
        {
            var page = await ListAsync<Prompt>(rc.Params?.Cursor, c => c.Prompts is not null, async (link, cursor, t) =>
            {
                var result = await link.Client.ListPromptsAsync(new ListPromptsRequestParams { Cursor = cursor }, t);
                return (result.Prompts, result.NextCursor);
            }, ct);
            return new ListPromptsResult { Prompts = Merge(page, (s, prompt) => Route.Expose(s, prompt.Name), (prompt, n) => prompt.Name = n, "prompt"), NextCursor = page.NextCursor, Meta = page.Meta };
        });

    private async ValueTask<GetPromptResult> GetPromptAsync(RequestContext<GetPromptRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing prompts/get parameters", McpErrorCode.InvalidParams);
        if (!Route.TryResolveName(p.Name, out var server, out var name))
        {
            throw new McpProtocolException($"Unknown prompt: '{p.Name}'", McpErrorCode.InvalidParams);
        }
        return await ObserveAsync(rc, server.Id, name, async () =>
        {
            await using var lease = await AcquireAsync(server, ct);
            using var call = lease.Link.BeginCall(rc.Server, mrtr: false);
            var upstreamParams = new GetPromptRequestParams { Name = name, Arguments = p.Arguments, Meta = ForwardMeta(p.Meta) };
            return await UpstreamAsync(server, lease, ct, t => lease.Link.Client.GetPromptAsync(upstreamParams, t).AsTask());
        });
    }

    private ValueTask<ListResourcesResult> ListResourcesAsync(RequestContext<ListResourcesRequestParams> rc, CancellationToken ct) =>
        ObserveAsync(rc, null, null, async () =>
        {
            var page = await ListAsync<Resource>(rc.Params?.Cursor, c => c.Resources is not null, async (link, cursor, t) =>
            {
                var result = await link.Client.ListResourcesAsync(new ListResourcesRequestParams { Cursor = cursor }, t);
                return (result.Resources, result.NextCursor);
            }, ct);
            return new ListResourcesResult { Resources = Merge(page, (s, r) => ExposeUri(Route, s, r.Uri), (r, n) => r.Uri = n, "resource"), NextCursor = page.NextCursor, Meta = page.Meta };
        });

    private ValueTask<ListResourceTemplatesResult> ListResourceTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> rc, CancellationToken ct) =>
        ObserveAsync(rc, null, null, async () =>
        {
            var page = await ListAsync<ResourceTemplate>(rc.Params?.Cursor, c => c.Resources is not null, async (link, cursor, t) =>
            {
                var result = await link.Client.ListResourceTemplatesAsync(new ListResourceTemplatesRequestParams { Cursor = cursor }, t);
                return (result.ResourceTemplates, result.NextCursor);
            }, ct);
            return new ListResourceTemplatesResult
            {
                ResourceTemplates = Merge(page, (s, r) => ExposeUri(Route, s, r.UriTemplate), (r, n) => r.UriTemplate = n, "resource template"),
                NextCursor = page.NextCursor,
                Meta = page.Meta,
            };
        });

    private async ValueTask<ReadResourceResult> ReadResourceAsync(RequestContext<ReadResourceRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing resources/read parameters", McpErrorCode.InvalidParams);
        if (!TryResolveUri(p.Uri, out var server, out var uri))
        {
            throw new McpProtocolException($"Unknown resource: '{p.Uri}'", McpErrorCode.InvalidParams);
        }
        return await ObserveAsync(rc, server.Id, uri, async () =>
        {
            await using var lease = await AcquireAsync(server, ct);
            var result = await UpstreamAsync(server, lease, ct, t => lease.Link.Client.ReadResourceAsync(new ReadResourceRequestParams { Uri = uri, Meta = ForwardMeta(p.Meta) }, t).AsTask());
            if (Route.Prefixed)
            {
                foreach (var content in result.Contents)
                {
                    content.Uri = ExposeUri(Route, server, content.Uri);
                }
            }
            return result;
        });
    }

    private async ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing parameters", McpErrorCode.InvalidParams);
        if (!TryResolveUri(p.Uri, out var server, out var uri))
        {
            throw new McpProtocolException($"Unknown resource: '{p.Uri}'", McpErrorCode.InvalidParams);
        }
        return await ObserveAsync(rc, server.Id, uri, async () =>
        {
            await using var lease = await AcquireAsync(server, ct);
            await UpstreamAsync(server, lease, ct, async t => { await lease.Link.Client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, t); return true; });
            return new EmptyResult();
        });
    }

    private async ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing parameters", McpErrorCode.InvalidParams);
        if (!TryResolveUri(p.Uri, out var server, out var uri))
        {
            throw new McpProtocolException($"Unknown resource: '{p.Uri}'", McpErrorCode.InvalidParams);
        }
        return await ObserveAsync(rc, server.Id, uri, async () =>
        {
            await using var lease = await AcquireAsync(server, ct);
            await UpstreamAsync(server, lease, ct, async t => { await lease.Link.Client.UnsubscribeFromResourceAsync(new UnsubscribeRequestParams { Uri = uri }, t); return true; });
            return new EmptyResult();
        });
    }

    private async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> rc, CancellationToken ct)
    {
        var p = rc.Params ?? throw new McpProtocolException("Missing parameters", McpErrorCode.InvalidParams);
        McpUpstreamServer server;
        Reference reference;
        switch (p.Ref)
        {
            case PromptReference prompt when Route.TryResolveName(prompt.Name, out server, out var name):
                reference = new PromptReference { Name = name, Title = prompt.Title };
                break;
            case ResourceTemplateReference { Uri: { } resourceUri } when TryResolveUri(resourceUri, out server, out var uri):
                reference = new ResourceTemplateReference { Uri = uri };
                break;
            default:
                throw new McpProtocolException("Unknown completion reference", McpErrorCode.InvalidParams);
        }
        return await ObserveAsync(rc, server.Id, null, async () =>
        {
            await using var lease = await AcquireAsync(server, ct);
            var upstreamParams = new CompleteRequestParams { Ref = reference, Argument = p.Argument, Context = p.Context };
            return await UpstreamAsync(server, lease, ct, t => lease.Link.Client.CompleteAsync(upstreamParams, t).AsTask());
        });
    }

    private ValueTask<EmptyResult> SetLevelAsync(RequestContext<SetLevelRequestParams> rc, CancellationToken ct) =>
        ObserveAsync(rc, null, null, async () =>
        {
            var level = rc.Params?.Level ?? LoggingLevel.Info;
            var failures = await Task.WhenAll(Route.Upstreams.Select(async server =>
            {
                try
                {
                    await using var lease = await AcquireAsync(server, ct);
                    if (lease.Link.Client.ServerCapabilities.Logging is null)
                    {
                        return null;
                    }
                    await UpstreamAsync(server, lease, ct, async t => { await lease.Link.Client.SetLoggingLevelAsync(new SetLevelRequestParams { Level = level }, t); return true; });
                    return null;
                }
                catch (McpProtocolException e) when (Route.Prefixed)
                {
                    _logger.LogWarning("MCP upstream {Server} did not take logging/setLevel: {Error}", server.Id, e.Message);
                    return server.Id;
                }
            }));
            return new EmptyResult();
        });

    private async ValueTask RelayRootsChangedAsync(JsonRpcNotification notification, CancellationToken ct)
    {
        List<McpUpstreamLink> links;
        lock (_links)
        {
            links = _links.Values.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
        }
        foreach (var link in links)
        {
            try
            {
                await link.Client.SendNotificationAsync(NotificationMethods.RootsListChangedNotification, ct);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogDebug(e, "Relaying roots/list_changed to {Server} failed", link.Server.Id);
            }
        }
    }

    // ---- observation --------------------------------------------------------------------------------------------

    private async ValueTask<T> ObserveAsync<TParams, T>(RequestContext<TParams> rc, string? server, string? target, Func<Task<T>> body)
    {
        var observers = _proxy.Observers;
        if (observers.Length == 0)
        {
            return await body();
        }
        var started = _proxy.Time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        string outcome = "ok";
        string? error = null;
        long resultBytes = 0;
        try
        {
            var result = await body();
            if (result is CallToolResult { IsError: true })
            {
                outcome = "tool_error";
            }
            resultBytes = JsonSerializer.SerializeToUtf8Bytes(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T))).Length;
            return result;
        }
        catch (InputRequiredException)
        {
            outcome = "input_required";
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        catch (McpProtocolException e)
        {
            outcome = e.Data["switchyard.outcome"] as string ?? "error";
            error = ((int)e.ErrorCode).ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + e.Message;
            throw;
        }
        catch (Exception e)
        {
            outcome = "error";
            error = e.GetType().Name;
            throw;
        }
        finally
        {
            var record = new McpCallRecord
            {
                StartedAt = started,
                Duration = stopwatch.Elapsed,
                Caller = Caller,
                Route = Route.Path,
                Server = server,
                Method = rc.JsonRpcRequest.Method,
                Target = target,
                Outcome = outcome,
                Error = error,
                ArgumentBytes = rc.JsonRpcRequest.Params is { } args ? args.ToJsonString().Length : 0,
                ResultBytes = resultBytes,
                SessionId = SessionId,
                ProtocolVersion = ProtocolVersion,
                UpstreamProtocolVersion = server is null ? null : UpstreamVersionOf(server),
                RequestId = rc.JsonRpcRequest.Id.ToString(),
            };
            foreach (var observer in observers)
            {
                try
                {
                    observer.OnCompleted(record);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogDebug(e, "An MCP call observer failed");
                }
            }
        }
    }

    /// <summary>The protocol version the session's connection to <paramref name="server"/> negotiated, once it is open.</summary>
    private string? UpstreamVersionOf(string server)
    {
        lock (_links)
        {
            return _links.TryGetValue(server, out var task) && task.IsCompletedSuccessfully ? task.Result.Client.NegotiatedProtocolVersion : null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Task<McpUpstreamLink>> links;
        lock (_links)
        {
            links = [.. _links.Values];
            _links.Clear();
        }
        foreach (var task in links)
        {
            try
            {
                await (await task).DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogDebug(e, "An upstream MCP connection of route {Route} failed to open or close", Route.Path);
            }
        }
    }
}
