using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Redis;

/// <summary>
/// The gateway's Redis client: a small pool of pipelined connections per node, reconnect with backoff, AUTH, TLS,
/// and Redis Cluster routing (hash slots, MOVED and ASK). Connects lazily; an unreachable server surfaces as
/// <see cref="RedisConnectionException"/> from commands and as <see cref="LastError"/>, never from the constructor.
/// </summary>
public sealed class RedisClient : IAsyncDisposable
{
    private const int MaxRedirects = 5;

    private readonly RedisClientOptions _options;
    private readonly RedisEndpoint _template;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RedisNode> _nodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly RedisNode[] _seeds;
    private readonly RedisNode? _standalone;
    private ClusterSlotMap? _map;
    private Task<ClusterSlotMap>? _refreshing;
    private long _lastRefresh = long.MinValue / 2;
    private string? _discoveryError;
    private int _disposed;

    /// <exception cref="ArgumentException">The options are inconsistent or the CA file cannot be read.</exception>
    public RedisClient(RedisClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints is not { Count: > 0 })
        {
            throw new ArgumentException("At least one Redis endpoint is required", nameof(options));
        }
        if (options.Cluster && options.Database != 0)
        {
            throw new ArgumentException("Redis Cluster has only database 0; remove the database number", nameof(options));
        }
        if (options.Database < 0 || options.ConnectionsPerNode < 1 || options.CommandTimeout <= TimeSpan.Zero
            || options.ConnectTimeout <= TimeSpan.Zero || options.ReconnectMinDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("Database must be >= 0, ConnectionsPerNode >= 1 and the timeouts positive", nameof(options));
        }
        _options = options;
        _template = new RedisEndpoint("", 0)
        {
            Username = options.Username,
            Password = options.PasswordProvider is null ? options.Password : null,
            Timeout = options.CommandTimeout,
            ConnectTimeout = options.ConnectTimeout,
            Tls = options.Tls,
            TlsServerName = options.TlsServerName,
            TlsCaCertificates = LoadCaFile(options.TlsCaFile),
            Database = options.Database,
        };
        _seeds = [.. options.Endpoints.Select(e => Node(e.Host, e.Port))];
        _standalone = options.Cluster ? null : _seeds[0];
    }

    /// <summary>Null while healthy; else a short description of the last connection failure (for health checks), without secrets.</summary>
    public string? LastError
    {
        get
        {
            lock (_gate)
            {
                return _discoveryError ?? _nodes.Values.Select(n => n.LastError).FirstOrDefault(e => e is not null);
            }
        }
    }

    /// <summary>True when at least one connection is open and no node is failing.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_gate)
            {
                return _discoveryError is null && _nodes.Values.All(n => n.LastError is null) && _nodes.Values.Any(n => n.HasLiveConnection);
            }
        }
    }

    /// <summary>Connect attempts over all nodes, for tests that check failing nodes are not hammered.</summary>
    internal int ConnectAttempts
    {
        get
        {
            lock (_gate)
            {
                return _nodes.Values.Sum(n => n.ConnectAttempts);
            }
        }
    }

    /// <summary>The node (host:port) the client currently routes <paramref name="key"/> to in cluster mode.</summary>
    internal string? RouteOf(string key) => Volatile.Read(ref _map)?.OwnerOf(ClusterKeySlot.Of(key))?.Name;

    /// <summary>Sends a command; <paramref name="key"/> routes it in cluster mode (null = any node).</summary>
    public Task<RespValue> ExecuteAsync(string? key, IReadOnlyList<ReadOnlyMemory<byte>> command, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        return RunAsync(key, command, static (output, parts) => RespWriter.WriteCommand(output, parts), ct);
    }

    /// <summary>Sends a command of text arguments; <paramref name="key"/> routes it in cluster mode (null = any node).</summary>
    public Task<RespValue> ExecuteAsync(string? key, params string[] command)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Length);
        return RunAsync(key, command, static (output, parts) => RespWriter.WriteCommand(output, parts), default);
    }

    /// <summary>GET; null when the key does not exist.</summary>
    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        var reply = await RunAsync(key, key, static (output, k) =>
        {
            RespWriter.WriteArrayHeader(output, 2);
            RespWriter.WriteBulk(output, "GET"u8);
            RespWriter.WriteBulk(output, k);
        }, ct).ConfigureAwait(false);
        return reply.Kind switch
        {
            RespKind.Null => null,
            RespKind.BulkString or RespKind.SimpleString => reply.Bytes,
            _ => throw new RedisServerException("ERR unexpected reply to GET: " + reply.Kind),
        };
    }

    /// <summary>SET key value, with PX milliseconds when <paramref name="expiry"/> is given.</summary>
    public Task SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken ct = default)
    {
        long milliseconds = 0;
        if (expiry is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(expiry));
            milliseconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));
        }
        return RunAsync(key, (key, value, milliseconds), static (output, s) =>
        {
            RespWriter.WriteArrayHeader(output, s.milliseconds > 0 ? 5 : 3);
            RespWriter.WriteBulk(output, "SET"u8);
            RespWriter.WriteBulk(output, s.key);
            RespWriter.WriteBulk(output, s.value.Span);
            if (s.milliseconds > 0)
            {
                RespWriter.WriteBulk(output, "PX"u8);
                RespWriter.WriteBulk(output, s.milliseconds);
            }
        }, ct);
    }

    /// <summary>DEL key; the number of keys removed (0 or 1).</summary>
    public async Task<long> DeleteAsync(string key, CancellationToken ct = default)
    {
        var reply = await RunAsync(key, key, static (output, k) =>
        {
            RespWriter.WriteArrayHeader(output, 2);
            RespWriter.WriteBulk(output, "DEL"u8);
            RespWriter.WriteBulk(output, k);
        }, ct).ConfigureAwait(false);
        return reply.Integer;
    }

    /// <summary>Runs a script by EVALSHA; a server that answers NOSCRIPT gets EVAL with the source, which also caches it there.</summary>
    public async Task<RespValue> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<ReadOnlyMemory<byte>> args, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        var routing = keys.Count > 0 ? keys[0] : null;
        try
        {
            return await RunAsync(routing, (script, keys, args, bySha: true), EncodeEval, ct).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Code == "NOSCRIPT")
        {
            return await RunAsync(routing, (script, keys, args, bySha: false), EncodeEval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>PING to one node (any node in cluster mode).</summary>
    public Task PingAsync(CancellationToken ct = default) =>
        RunAsync<object?>(null, null, static (output, _) => RespWriter.WriteCommand(output, "PING"), ct);

    private static void EncodeEval(System.Buffers.IBufferWriter<byte> output,
        (RedisScript Script, IReadOnlyList<string> Keys, IReadOnlyList<ReadOnlyMemory<byte>> Args, bool BySha) s)
    {
        RespWriter.WriteArrayHeader(output, 3 + s.Keys.Count + s.Args.Count);
        RespWriter.WriteBulk(output, s.BySha ? "EVALSHA"u8 : "EVAL"u8);
        RespWriter.WriteBulk(output, s.BySha ? s.Script.Sha1Bytes : s.Script.SourceBytes);
        RespWriter.WriteBulk(output, s.Keys.Count);
        for (var i = 0; i < s.Keys.Count; i++)
        {
            RespWriter.WriteBulk(output, s.Keys[i]);
        }
        for (var i = 0; i < s.Args.Count; i++)
        {
            RespWriter.WriteBulk(output, s.Args[i].Span);
        }
    }

    private async Task<RespValue> RunAsync<TState>(string? key, TState state, CommandEncoder<TState> encode, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var node = _standalone ?? await ClusterNodeForAsync(key, ct).ConfigureAwait(false);
        var asking = false;
        for (var redirects = 0; ; redirects++)
        {
            RespValue reply;
            try
            {
                var pick = node.GetConnectionAsync();
                var connection = pick.IsCompletedSuccessfully ? pick.Result : await pick.AsTask().WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    reply = await connection.Send(state, encode, asking).WaitAsync(ct).ConfigureAwait(false);
                }
                catch (RedisConnectionException ex)
                {
                    // Connect failures are recorded by the node itself; this is a connection that broke under a command.
                    node.ReportFailure(ex.Message);
                    throw;
                }
            }
            catch (RedisConnectionException) when (_standalone is null)
            {
                RefreshInBackground(); // The slot may have failed over to another node.
                throw;
            }
            if (!reply.IsError)
            {
                return reply;
            }
            var error = reply.Text ?? "ERR";
            if (_standalone is not null || redirects >= MaxRedirects || !TryParseRedirect(error, node, out var ask, out var slot, out var target))
            {
                throw new RedisServerException(error);
            }
            // ASK is a one-off for a slot being migrated; only MOVED changes who owns the slot.
            asking = ask;
            if (!ask)
            {
                Volatile.Read(ref _map)?.Move(slot, target);
                RefreshInBackground(); // One MOVED usually means a resharding that moved more slots.
            }
            node = target;
        }
    }

    private bool TryParseRedirect(string error, RedisNode from, out bool ask, out int slot, out RedisNode target)
    {
        // "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381"; an empty host means the host we asked.
        ask = error.StartsWith("ASK ", StringComparison.Ordinal);
        slot = 0;
        target = from;
        if (!ask && !error.StartsWith("MOVED ", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = error.Split(' ');
        if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out slot)
            || slot >= ClusterKeySlot.SlotCount)
        {
            return false;
        }
        var colon = parts[2].LastIndexOf(':');
        if (colon < 0 || !int.TryParse(parts[2].AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return false;
        }
        var host = colon == 0 ? from.Endpoint.Host : parts[2][..colon];
        target = Node(host, port);
        return true;
    }

    private async ValueTask<RedisNode> ClusterNodeForAsync(string? key, CancellationToken ct)
    {
        var map = Volatile.Read(ref _map) ?? await RefreshAsync().WaitAsync(ct).ConfigureAwait(false);
        if (key is null)
        {
            return map.Nodes.Count > 0 ? map.Nodes[Random.Shared.Next(map.Nodes.Count)] : _seeds[0];
        }
        var slot = ClusterKeySlot.Of(key);
        if (map.OwnerOf(slot) is { } owner)
        {
            return owner;
        }
        map = await RefreshAsync().WaitAsync(ct).ConfigureAwait(false);
        return map.OwnerOf(slot) ?? throw new RedisConnectionException($"No Redis Cluster node serves hash slot {slot} (is the cluster down?)");
    }

    /// <summary>Re-reads the slot map; concurrent callers share one discovery.</summary>
    private Task<ClusterSlotMap> RefreshAsync()
    {
        lock (_gate)
        {
            if (_refreshing is { IsCompleted: false } running)
            {
                return running;
            }
            _lastRefresh = Environment.TickCount64;
            // Queued, not started here: nothing async may begin while the lock is held (see RedisNode.ReplaceAsync).
            return _refreshing = Task.Run(DiscoverAsync);
        }
    }

    private void RefreshInBackground()
    {
        lock (_gate)
        {
            // At most one refresh per ReconnectMinDelay, so a burst of failures does not become a burst of CLUSTER SLOTS.
            if (Environment.TickCount64 - _lastRefresh < Math.Max(10, (long)_options.ReconnectMinDelay.TotalMilliseconds))
            {
                return;
            }
        }
        _ = RefreshAsync().ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task<ClusterSlotMap> DiscoverAsync()
    {
        var candidates = (Volatile.Read(ref _map)?.Nodes ?? []).Concat(_seeds).Distinct().ToList();
        Exception? last = null;
        foreach (var node in candidates)
        {
            try
            {
                var connection = await node.GetConnectionAsync().ConfigureAwait(false);
                var reply = await connection.Send(0, static (output, _) => RespWriter.WriteCommand(output, "CLUSTER", "SLOTS")).ConfigureAwait(false);
                if (reply.IsError)
                {
                    throw new RedisServerException(reply.Text ?? "ERR");
                }
                var map = ClusterSlotMap.Parse(reply, node.Endpoint.Host, Node);
                Volatile.Write(ref _map, map);
                lock (_gate)
                {
                    _discoveryError = null;
                }
                return map;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisServerException)
            {
                last = ex;
            }
        }
        var message = $"Could not read the Redis Cluster slot map from any of {candidates.Count} nodes: {last?.Message}";
        lock (_gate)
        {
            _discoveryError = message;
        }
        throw new RedisConnectionException(message, last);
    }

    private RedisNode Node(string host, int port)
    {
        var name = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
        lock (_gate)
        {
            if (!_nodes.TryGetValue(name, out var node))
            {
                node = new RedisNode(_template with { Host = host, Port = port }, _options, _lifetime.Token);
                _nodes.Add(name, node);
            }
            return node;
        }
    }

    private static X509Certificate2Collection? LoadCaFile(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"The Redis TLS CA file '{path}' could not be read: {ex.Message}", ex);
        }
        if (certificates.Count == 0)
        {
            throw new ArgumentException($"The Redis TLS CA file '{path}' holds no PEM certificate");
        }
        return certificates;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _lifetime.CancelAsync().ConfigureAwait(false);
        RedisNode[] nodes;
        lock (_gate)
        {
            nodes = [.. _nodes.Values];
        }
        foreach (var node in nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
        _lifetime.Dispose();
    }
}
