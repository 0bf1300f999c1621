using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;
using StackExchange.Redis.Configuration;
using Switchyard.Redis;

namespace Switchyard.Core.Caching;

/// <summary>
/// The cache store on StackExchange.Redis (issue 13 scope 0 spike, <c>REDIS_CLIENT=stackexchange</c>): the same
/// semantics as <see cref="RedisCacheStore"/> (plain strings with PX expiry, the two list scripts), on one
/// <see cref="ConnectionMultiplexer"/> configured from the same <see cref="RedisClientOptions"/>.
/// Never throws from the constructor: the multiplexer connects in the background and keeps retrying.
/// </summary>
public sealed class SeRedisCacheStore : ICacheStore, IAsyncDisposable
{
    private const string AppendScript = """
        local n = redis.call('LLEN', KEYS[1])
        if n < tonumber(ARGV[3]) then n = redis.call('RPUSH', KEYS[1], ARGV[1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return n
        """;

    private const string ReadFromScript = """
        local n = redis.call('LLEN', KEYS[1])
        local s = tonumber(ARGV[1])
        if n < s then s = 0 end
        local items = redis.call('LRANGE', KEYS[1], s, -1)
        table.insert(items, 1, tostring(s))
        return items
        """;

    private readonly ConfigurationOptions _config;
    private readonly Task<ConnectionMultiplexer> _connecting;
    private readonly X509Certificate2Collection? _extraRoots;
    private volatile string? _problem;
    private volatile string? _tlsProblem;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SeRedisCacheStore(RedisClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _config = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds,
            SyncTimeout = (int)options.CommandTimeout.TotalMilliseconds,
            AsyncTimeout = (int)options.CommandTimeout.TotalMilliseconds,
            User = options.Username,
            Password = options.Password,
            Ssl = options.Tls,
            SslHost = options.TlsServerName,
            DefaultDatabase = options.Cluster ? null : options.Database,
            ReconnectRetryPolicy = new ExponentialRetry((int)options.ReconnectMinDelay.TotalMilliseconds, (int)options.ReconnectMaxDelay.TotalMilliseconds),
            ClientName = "switchyard",
        };
        foreach (var (host, port) in options.Endpoints)
        {
            _config.EndPoints.Add(IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port));
        }
        if (options.Tls)
        {
            if (options.TlsCaFile is { } caFile)
            {
                _extraRoots = [];
                _extraRoots.ImportFromPemFile(caFile);
            }
            _config.CertificateValidation += Validate;
        }
        if (options.PasswordProvider is { } provider)
        {
            // Memorystore IAM: fetch the (cached, refreshed) token before each connection authenticates.
            _config.Tunnel = new PasswordRefresh(_config, provider);
        }
        _connecting = ConnectAsync();
    }

    public string Kind => "redis";

    /// <summary>Null while connected; else why not (no secrets).</summary>
    public string? Problem => _problem;

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        return await Run(db.StringGetAsync(key), ct).ConfigureAwait(false) is { IsNull: false } value ? (byte[]?)value : null;
    }

    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct)
    {
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        await Run(db.StringSetAsync(key, value.ToArray(), ttl), ct).ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(string key, CancellationToken ct)
    {
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        await Run(db.KeyDeleteAsync(key), ct).ConfigureAwait(false);
    }

    public async ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct)
    {
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        var reply = await Run(db.ScriptEvaluateAsync(AppendScript, [key], [item.ToArray(), (long)ttl.TotalMilliseconds, maxLength]), ct).ConfigureAwait(false);
        return (long)reply;
    }

    public async ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct)
    {
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        var reply = await Run(db.ScriptEvaluateAsync(ReadFromScript, [key], [start]), ct).ConfigureAwait(false);
        if (reply.IsNull || (RedisResult[]?)reply is not { Length: > 0 } items)
        {
            return ListRead.Empty;
        }
        var from = int.Parse((string?)items[0] ?? "0", CultureInfo.InvariantCulture);
        var list = new byte[items.Length - 1][];
        for (var i = 1; i < items.Length; i++)
        {
            list[i - 1] = (byte[]?)items[i] ?? [];
        }
        return new ListRead(from, list);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var mux = await _connecting.ConfigureAwait(false);
            await mux.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Never connected: nothing to close.
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(_config).ConfigureAwait(false);
        mux.ConnectionFailed += (_, e) =>
        {
            _problem = Describe(e.FailureType, e.Exception);
            _failed.TrySetResult();
        };
        mux.ConnectionRestored += (_, _) =>
        {
            if (mux.IsConnected)
            {
                _problem = null;
                _tlsProblem = null;
                _connected.TrySetResult();
            }
        };
        if (mux.IsConnected)
        {
            _connected.TrySetResult();
        }
        if (!mux.IsConnected)
        {
            _problem ??= _tlsProblem ?? "redis is not reachable";
        }
        return mux;
    }

    internal async ValueTask<IDatabase> DatabaseAsync(CancellationToken ct)
    {
        if (!_connecting.IsCompletedSuccessfully && (_tlsProblem ?? _problem) is { } why)
        {
            // The first connect is still retrying inside SE.Redis, but a handshake already failed: say why now rather
            // than hold the request until the connect timeout.
            throw new InvalidOperationException(why);
        }
        if (!_connecting.IsCompleted)
        {
            // Whichever comes first: connected, or a first handshake failure (SE.Redis keeps retrying until its connect timeout).
            await Task.WhenAny(_connecting, _failed.Task).WaitAsync(ct).ConfigureAwait(false);
            if (!_connecting.IsCompletedSuccessfully && (_tlsProblem ?? _problem) is { } failed)
            {
                throw new InvalidOperationException(failed);
            }
        }
        var mux = await _connecting.WaitAsync(ct).ConfigureAwait(false);
        if (!mux.IsConnected)
        {
            // With AbortOnConnectFail=false a command on a multiplexer without a connection waits for one until its
            // timeout; fail now with the reason when one is known, so health names it (a refused certificate, a
            // rejected password) instead of a timeout.
            if ((_tlsProblem ?? _problem) is { } down)
            {
                throw new InvalidOperationException(down);
            }
            await Task.WhenAny(_failed.Task, _connected.Task).WaitAsync(ct).ConfigureAwait(false);
            if (!mux.IsConnected && (_tlsProblem ?? _problem) is { } failedNow)
            {
                throw new InvalidOperationException(failedNow);
            }
        }
        return mux.GetDatabase();
    }

    private async Task<T> Run<T>(Task<T> command, CancellationToken ct)
    {
        try
        {
            var result = await command.WaitAsync(ct).ConfigureAwait(false);
            _problem = null;
            return result;
        }
        catch (StackExchange.Redis.RedisConnectionException ex)
        {
            // SE.Redis says "No connection is available…"; the reason (a refused certificate, a rejected password) is
            // what health should show.
            var why = _tlsProblem ?? _problem ?? Describe(ex.FailureType, ex);
            _problem = why;
            throw new InvalidOperationException(why, ex);
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        // One certificate check for both Redis clients: the system roots, else the configured CA.
        if (Switchyard.Redis.TlsTrust.Accept(certificate, chain, errors, _extraRoots, out var problem))
        {
            return true;
        }
        var why = problem!;
        _tlsProblem = why;
        _problem = why;
        _failed.TrySetResult();
        return false;
    }

    private string Describe(ConnectionFailureType type, Exception? ex) => type switch
    {
        ConnectionFailureType.AuthenticationFailure when _tlsProblem is { } tls => tls,
        ConnectionFailureType.AuthenticationFailure => "redis refused the credentials or the TLS handshake failed",
        ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection => _tlsProblem ?? "redis is not reachable",
        _ => $"redis connection {type}: {ex?.GetType().Name}",
    };

    /// <summary>Sets the password from the provider just before each connection authenticates (IAM tokens that rotate).</summary>
    private sealed class PasswordRefresh(ConfigurationOptions config, Func<CancellationToken, ValueTask<string>> provider) : Tunnel
    {
        public override async ValueTask<Stream?> BeforeAuthenticateAsync(EndPoint endpoint, ConnectionType connectionType, Socket? socket, CancellationToken cancellationToken)
        {
            config.Password = await provider(cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}
