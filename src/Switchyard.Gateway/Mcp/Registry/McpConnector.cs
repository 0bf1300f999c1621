using System.Collections.Concurrent;
using System.Collections.Frozen;
using ModelContextProtocol.Client;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>What health shows about one upstream server's connections.</summary>
public sealed record McpUpstreamHealth
{
    public required string ServerId { get; init; }

    /// <summary><c>http</c>, <c>sse</c>, <c>http-sse</c> or <c>stdio</c>.</summary>
    public required string Transport { get; init; }

    /// <summary>The protocol version negotiated last, tried first on the next connection (null until one connection succeeded).</summary>
    public string? ProtocolVersion { get; init; }

    public DateTimeOffset? LastConnectedAt { get; init; }

    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>The last connect failure or lost connection, naming the server (never a secret).</summary>
    public string? LastError { get; init; }

    public long Connects { get; init; }

    public long Failures { get; init; }

    /// <summary>stdio: failures in a row (connect failures and children that died); drives the backoff.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>stdio: children that died on their own.</summary>
    public long Crashes { get; init; }

    /// <summary>stdio: children started again after a crash or failed start.</summary>
    public long Restarts { get; init; }

    /// <summary>stdio: no new child is started before this time (backoff).</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>stdio: process ids of the children running now (one per downstream session).</summary>
    public IReadOnlyList<int> Processes { get; init; } = [];
}

/// <summary>
/// The upstream connector: SDK <see cref="McpClient"/>s over Streamable HTTP (either era), HTTP+SSE or stdio, with static headers, the
/// <c>forward_headers</c> allowlist, OAuth client-credentials bearers, the negotiated era remembered per server, and stdio children
/// supervised (restart backoff 1 s, 2 s, 4 s … 30 s after failures in a row).
/// </summary>
public sealed class McpConnector : IMcpUpstreamConnector, IDisposable
{
    /// <summary>The longest wait between restarts of a failing stdio server.</summary>
    public static TimeSpan MaxBackoff { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Variables a stdio child gets from the gateway's own environment; nothing else is inherited.</summary>
    public static IReadOnlyList<string> InheritedVariables { get; } = ["PATH", "HOME", "LANG"];

    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpMessageHandler _handler;
    private readonly bool _ownsHandler;
    private readonly Func<string, string?> _gatewayEnvironment;
    private readonly ConcurrentDictionary<string, ServerState> _states = new(StringComparer.Ordinal);

    /// <param name="handler">The shared handler under every upstream request (tests may pass their own); by default a
    /// <see cref="SocketsHttpHandler"/> that follows no redirects and keeps no cookies.</param>
    /// <param name="gatewayEnvironment">Where PATH, HOME and LANG for stdio children are read (the process environment by default).</param>
    /// <param name="extraCa">Extra CAs trusted for upstream TLS (<c>UPSTREAM_CA_FILE</c>), applied to the default handler.</param>
    public McpConnector(ILoggerFactory loggers, TimeProvider time, HttpMessageHandler? handler = null, Func<string, string?>? gatewayEnvironment = null,
        Core.Security.ExtraCaTrust? extraCa = null)
    {
        _loggers = loggers;
        _logger = loggers.CreateLogger("Switchyard.Mcp.Upstream");
        _time = time;
        _ownsHandler = handler is null;
        _handler = handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        if (_handler is SocketsHttpHandler sockets && handler is null)
        {
            extraCa?.ApplyTo(sockets);
        }
        _gatewayEnvironment = gatewayEnvironment ?? Environment.GetEnvironmentVariable;
        Tokens = new McpClientCredentialsTokens(new HttpMessageInvoker(_handler, disposeHandler: false), time, _logger);
    }

    /// <summary>The OAuth client-credentials token cache.</summary>
    public McpClientCredentialsTokens Tokens { get; }

    /// <summary>The backoff after <paramref name="failures"/> failures in a row: 1 s, 2 s, 4 s, … capped at <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(int failures) =>
        failures <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10))));

    /// <summary>Per server id: the remembered era, the last connect error and time, and stdio supervision counters.</summary>
    public IReadOnlyDictionary<string, McpUpstreamHealth> Snapshot()
    {
        var result = new Dictionary<string, McpUpstreamHealth>(StringComparer.Ordinal);
        foreach (var (id, state) in _states)
        {
            lock (state)
            {
                result[id] = new McpUpstreamHealth
                {
                    ServerId = id,
                    Transport = state.Transport,
                    ProtocolVersion = state.Era,
                    LastConnectedAt = state.LastConnectedAt,
                    LastErrorAt = state.LastErrorAt,
                    LastError = state.LastError,
                    Connects = state.Connects,
                    Failures = state.Failures,
                    ConsecutiveFailures = state.ConsecutiveFailures,
                    Crashes = state.Crashes,
                    Restarts = state.Restarts,
                    RetryAt = state.RetryAt,
                    Processes = [.. state.Processes],
                };
            }
        }
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The protocol version remembered for <paramref name="serverId"/>, or null.</summary>
    public string? RememberedProtocolVersion(string serverId) => _states.TryGetValue(serverId, out var s) ? s.Era : null;

    public async Task<McpClient> ConnectAsync(McpUpstreamServer server, McpClientOptions options, McpUpstreamContext context, CancellationToken ct)
    {
        var state = StateOf(server);
        var stdio = server.Transport == McpUpstreamTransport.Stdio;
        if (stdio)
        {
            DateTimeOffset? retryAt;
            int failures;
            lock (state)
            {
                retryAt = state.RetryAt;
                failures = state.ConsecutiveFailures;
            }
            var now = _time.GetUtcNow();
            if (retryAt is { } at && now < at)
            {
                var wait = at - now;
                throw new McpUpstreamUnavailableException(server.Id,
                    $"Upstream MCP server '{server.Id}' is not started again yet: it failed {failures} time(s) in a row; next try in {Math.Ceiling(wait.TotalSeconds):0} s")
                { RetryAfter = wait };
            }
        }

        var remembered = state.Era;
        var useRemembered = options.ProtocolVersion is null && remembered is not null;
        if (useRemembered)
        {
            options.ProtocolVersion = remembered;
        }
        try
        {
            McpClient client;
            try
            {
                client = await ConnectOnceAsync(server, options, context, state, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (useRemembered && ex is not (OperationCanceledException or McpUpstreamUnavailableException or TimeoutException))
            {
                // The server changed era since we met it (upgraded, or rolled back): detect afresh once.
                _logger.LogInformation("MCP server {Server} refused the remembered protocol version {Version}; detecting its era again ({Reason})",
                    server.Id, remembered, ex.GetType().Name);
                lock (state)
                {
                    state.Era = null;
                }
                options.ProtocolVersion = null;
                client = await ConnectOnceAsync(server, options, context, state, ct).ConfigureAwait(false);
            }
            Connected(server, state, client);
            return client;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var error = ex switch
            {
                McpUpstreamUnavailableException u => u,
                TimeoutException or OperationCanceledException => new McpUpstreamUnavailableException(server.Id,
                    $"Upstream MCP server '{server.Id}' did not complete the connection within {server.ConnectTimeout.TotalMilliseconds:0} ms", ex),
                _ => new McpUpstreamUnavailableException(server.Id, $"Upstream MCP server '{server.Id}' could not be connected: {Describe(ex)}", ex),
            };
            Failed(server, state, error.Message, countForBackoff: stdio);
            throw error;
        }
        finally
        {
            if (useRemembered && options.ProtocolVersion == remembered)
            {
                // The caller's options object is left as it came, so a retry by the proxy detects afresh if it must.
                options.ProtocolVersion = null;
            }
        }
    }

    private async Task<McpClient> ConnectOnceAsync(McpUpstreamServer server, McpClientOptions options, McpUpstreamContext context, ServerState state, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(server.ConnectTimeout);
        if (server.Transport == McpUpstreamTransport.Stdio)
        {
            return await ConnectStdioAsync(server, options, timeout.Token).ConfigureAwait(false);
        }
        if (server.ClientCredentials is not null)
        {
            // Fetched before the transport starts, so a token failure reaches the caller as itself, not inside a transport error.
            await Tokens.GetAsync(server, timeout.Token).ConfigureAwait(false);
        }
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.Url ?? throw new McpUpstreamUnavailableException(server.Id, $"Upstream MCP server '{server.Id}' has no URL"),
            Name = "mcp-upstream " + server.Id,
            TransportMode = server.Transport switch
            {
                McpUpstreamTransport.StreamableHttp => HttpTransportMode.StreamableHttp,
                McpUpstreamTransport.Sse => HttpTransportMode.Sse,
                _ => HttpTransportMode.AutoDetect,
            },
            ConnectionTimeout = server.ConnectTimeout,
            AdditionalHeaders = UpstreamHeaders(server, context),
        }, new HttpClient(new McpUpstreamRequestHandler(server, server.ClientCredentials is null ? null : Tokens, _handler), disposeHandler: false)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        }, _loggers, ownsHttpClient: true);
        return await McpClient.CreateAsync(transport, options, _loggers, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// What goes upstream besides the transport's own headers: the allowed forwarded client headers, then the configured ones (which
    /// win). The protected set is dropped here too, whatever the proxy passed.
    /// </summary>
    public static Dictionary<string, string> UpstreamHeaders(McpUpstreamServer server, McpUpstreamContext context)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in context.ForwardedHeaders)
        {
            if (server.ForwardHeaders.Contains(name) && !McpServersFile.ProtectedHeaders.Contains(name) && !server.Headers.ContainsKey(name)
                && value.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u007e') < 0)
            {
                headers[name] = value;
            }
        }
        foreach (var (name, value) in server.Headers)
        {
            headers[name] = value;
        }
        return headers;
    }

    private async Task<McpClient> ConnectStdioAsync(McpUpstreamServer server, McpClientOptions options, CancellationToken ct)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in InheritedVariables)
        {
            if (_gatewayEnvironment(name) is { } value)
            {
                environment[name] = value;
            }
        }
        foreach (var (name, value) in server.Environment)
        {
            environment[name] = value;
        }
        var stderr = _loggers.CreateLogger("Switchyard.Mcp.Upstream.Stderr");
        var processId = 0;
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = server.Command ?? throw new McpUpstreamUnavailableException(server.Id, $"Upstream MCP server '{server.Id}' has no command"),
            Arguments = [.. server.Arguments],
            Name = "mcp-upstream " + server.Id,
            WorkingDirectory = server.WorkingDirectory,
            InheritEnvironmentVariables = false,
            EnvironmentVariables = environment,
            StandardErrorLines = line => stderr.LogDebug("MCP server {Server} stderr: {Line}", server.Id, line),
        }, new ProcessIdCapture(_loggers, pid => Volatile.Write(ref processId, pid)));
        var client = await McpClient.CreateAsync(transport, options, _loggers, ct).ConfigureAwait(false);
        var pid = Volatile.Read(ref processId);
        return new SupervisedMcpClient(client, pid == 0 ? null : pid);
    }

    private void Connected(McpUpstreamServer server, ServerState state, McpClient client)
    {
        var now = _time.GetUtcNow();
        var supervised = client as SupervisedMcpClient;
        lock (state)
        {
            state.Era = client.NegotiatedProtocolVersion ?? state.Era;
            state.LastConnectedAt = now;
            state.Connects++;
            if (supervised is not null)
            {
                if (state.ConsecutiveFailures > 0 || state.RestartPending)
                {
                    state.Restarts++;
                }
                state.RestartPending = false;
                state.RetryAt = null;
                if (supervised.ProcessId is { } pid)
                {
                    state.Processes.Add(pid);
                }
            }
        }
        _logger.LogDebug("Connected to MCP server {Server} ({Transport}, protocol {Version})", server.Id, state.Transport, client.NegotiatedProtocolVersion);
        _ = client.Completion.ContinueWith(t => Closed(server, state, client, now, t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Closed(McpUpstreamServer server, ServerState state, McpClient client, DateTimeOffset connectedAt, Task<ClientCompletionDetails> completion)
    {
        var details = completion.IsCompletedSuccessfully ? completion.Result : null;
        if (client is SupervisedMcpClient supervised)
        {
            lock (state)
            {
                if (supervised.ProcessId is { } pid)
                {
                    state.Processes.Remove(pid);
                }
            }
            if (supervised.DisposedByOwner)
            {
                lock (state)
                {
                    // A session that ran and closed normally proves the server works: the failure streak ends.
                    state.ConsecutiveFailures = 0;
                }
                return;
            }
            var exit = details is StdioClientCompletionDetails stdio && stdio.ExitCode is { } code ? $" (exit code {code})" : "";
            var lived = _time.GetUtcNow() - connectedAt;
            lock (state)
            {
                state.Crashes++;
                state.RestartPending = true;
                // A child that ran longer than the longest backoff starts a new streak rather than lengthening an old one.
                if (lived > MaxBackoff)
                {
                    state.ConsecutiveFailures = 0;
                }
            }
            _logger.LogWarning("MCP server {Server}: the child process {Pid} exited on its own{Exit}", server.Id, supervised.ProcessId, exit);
            Failed(server, state, $"Upstream MCP server '{server.Id}': the server process exited unexpectedly{exit}", countForBackoff: true);
            return;
        }
        if (details?.Exception is { } ex)
        {
            var status = details is HttpClientCompletionDetails { HttpStatusCode: { } s } ? $" (HTTP {(int)s})" : "";
            Failed(server, state, $"Upstream MCP server '{server.Id}': the connection was lost{status}: {Describe(ex)}", countForBackoff: false);
        }
    }

    private void Failed(McpUpstreamServer server, ServerState state, string message, bool countForBackoff)
    {
        var now = _time.GetUtcNow();
        lock (state)
        {
            state.LastError = message;
            state.LastErrorAt = now;
            state.Failures++;
            if (countForBackoff)
            {
                state.ConsecutiveFailures++;
                state.RetryAt = now + Backoff(state.ConsecutiveFailures);
            }
        }
        _logger.LogWarning("{Message}", message);
    }

    private ServerState StateOf(McpUpstreamServer server)
    {
        var fingerprint = Fingerprint(server);
        var state = _states.GetOrAdd(server.Id, _ => new ServerState(fingerprint, TransportName(server.Transport)));
        lock (state)
        {
            if (state.Fingerprint != fingerprint)
            {
                // The servers file now points this id elsewhere: what we learnt about the old endpoint no longer holds.
                state.Fingerprint = fingerprint;
                state.Transport = TransportName(server.Transport);
                state.Era = null;
                state.ConsecutiveFailures = 0;
                state.RetryAt = null;
            }
        }
        return state;
    }

    private static string Fingerprint(McpUpstreamServer server) =>
        string.Join('\n', server.Transport, server.Url?.AbsoluteUri, server.Command, string.Join('\u0001', server.Arguments), server.WorkingDirectory);

    private static string TransportName(McpUpstreamTransport transport) => transport switch
    {
        McpUpstreamTransport.StreamableHttp => "http",
        McpUpstreamTransport.Sse => "sse",
        McpUpstreamTransport.Stdio => "stdio",
        _ => "http-sse",
    };

    /// <summary>An exception's message chain, one line, without stack traces (no secret ever reaches these messages).</summary>
    private static string Describe(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null && parts.Count < 3; e = e.InnerException)
        {
            var line = e.Message.Split('\n', 2)[0].Trim();
            if (line.Length > 0 && !parts.Contains(line))
            {
                parts.Add(line);
            }
        }
        return parts.Count == 0 ? ex.GetType().Name : string.Join(": ", parts);
    }

    public void Dispose()
    {
        if (_ownsHandler)
        {
            _handler.Dispose();
        }
    }

    private sealed class ServerState(string fingerprint, string transport)
    {
        public string Fingerprint { get; set; } = fingerprint;
        public string Transport { get; set; } = transport;
        public string? Era { get; set; }
        public DateTimeOffset? LastConnectedAt { get; set; }
        public DateTimeOffset? LastErrorAt { get; set; }
        public string? LastError { get; set; }
        public long Connects { get; set; }
        public long Failures { get; set; }
        public int ConsecutiveFailures { get; set; }
        public long Crashes { get; set; }
        public long Restarts { get; set; }
        public bool RestartPending { get; set; }
        public DateTimeOffset? RetryAt { get; set; }
        public List<int> Processes { get; } = [];
    }

    /// <summary>
    /// The SDK logs the child's process id when it starts it and exposes it nowhere else until the child ends; this logger factory
    /// reads it from that log event (health shows it, and supervision needs it) and passes every event on unchanged.
    /// </summary>
    private sealed class ProcessIdCapture(ILoggerFactory inner, Action<int> onProcessId) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Capture(inner.CreateLogger(categoryName), onProcessId);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
        }

        private sealed class Capture(ILogger inner, Action<int> onProcessId) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Information || inner.IsEnabled(logLevel);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        if (key == "ProcessId" && value is int pid)
                        {
                            onProcessId(pid);
                        }
                    }
                }
                if (inner.IsEnabled(logLevel))
                {
                    inner.Log(logLevel, eventId, state, exception, formatter);
                }
            }
        }
    }
}
