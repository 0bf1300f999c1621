using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Guardrails.Jwt;

namespace Switchyard.Core.Security.Jwt;

/// <summary>The identity provider's signing keys for <c>AUTH_MODE=jwt</c>: fetched at start-up, refreshed in the background, kept when a refresh fails.</summary>
/// <remarks>
/// Not the guardrails' <see cref="JwksCache"/>: that one fetches on the request that finds the set stale and fails the
/// check when the fetch fails. On the authentication path an identity provider that blips must not lock every caller
/// out, so here a request never waits for a refresh while keys are known, a failed refresh keeps the last good set,
/// and the state (last fetch, key count, problem) is kept for <c>/v1/health</c>. Parsing is shared with the guardrail.
/// </remarks>
internal sealed class JwksKeySource : IDisposable
{
    private const int MaxBytes = 1024 * 1024;
    private const int MaxKeysWithoutKid = 8;

    private readonly Uri _url;
    private readonly HttpMessageInvoker _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeSpan _minRefetchInterval;
    private readonly Lock _gate = new();
    private volatile JwksState _state = new(null, null, null, null);
    private Task? _inFlight;
    private int _fetches;

    public JwksKeySource(JwtAuthOptions options, TimeProvider time, ILogger logger, HttpMessageInvoker? http = null)
    {
        _url = options.JwksUrl;
        _time = time;
        _logger = logger;
        _refreshInterval = options.RefreshInterval;
        _minRefetchInterval = options.MinRefetchInterval;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            MaxAutomaticRedirections = 3,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // an IdP behind DNS-based failover moves
        })
        { Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri Url => _url;

    public JwksState State => _state;

    /// <summary>Fetches attempted since start-up.</summary>
    public int FetchCount => Volatile.Read(ref _fetches);

    /// <summary>The first fetch, in the background: problems show in the log and in health before the first request.</summary>
    public Task StartAsync() => FetchAsync();

    /// <summary>Keys that may have signed a token with <paramref name="kid"/> (every key when the token has none); <c>null</c> when no key set could ever be fetched.</summary>
    public ValueTask<IReadOnlyList<JsonWebKey>?> FindAsync(string? kid, CancellationToken ct)
    {
        var state = _state;
        if (state.Keys is { } keys && Match(keys, kid) is { Count: > 0 } found)
        {
            // After a failed refresh try again sooner: the set may be missing a key the IdP has started to use.
            if (Since(state.LastAttempt) >= (state.Problem is null ? _refreshInterval : _minRefetchInterval))
            {
                _ = FetchAsync(); // in the background: this request goes on with the keys it has
            }
            return new(found);
        }
        return FindSlowAsync(kid, ct);
    }

    private async ValueTask<IReadOnlyList<JsonWebKey>?> FindSlowAsync(string? kid, CancellationToken ct)
    {
        // No keys yet, or a kid the set does not hold: the IdP may have rotated. Fetch again, but not more often than the
        // minimum interval, so random kids cannot make the gateway hammer the IdP.
        Task? fetch;
        lock (_gate)
        {
            fetch = _inFlight is { IsCompleted: false } running ? running
                : Since(_state.LastAttempt) >= _minRefetchInterval ? FetchAsync() : null;
        }
        if (fetch is not null)
        {
            await fetch.WaitAsync(ct).ConfigureAwait(false);
        }
        var state = _state;
        return state.Keys is { } keys ? Match(keys, kid) : null;
    }

    private TimeSpan Since(DateTimeOffset? moment) => moment is { } m ? _time.GetUtcNow() - m : TimeSpan.MaxValue;

    private static IReadOnlyList<JsonWebKey> Match(JsonWebKeySet keys, string? kid)
    {
        if (kid is null)
        {
            return keys.Count <= MaxKeysWithoutKid ? keys.Keys : [];
        }
        return keys.Find(kid) is { } key ? [key] : [];
    }

    private Task FetchAsync()
    {
        lock (_gate)
        {
            if (_inFlight is { IsCompleted: false } running)
            {
                return running;
            }
            var attempt = _time.GetUtcNow();
            _state = _state with { LastAttempt = attempt };
            Interlocked.Increment(ref _fetches);
            // Shared by every waiting request, so no caller's cancellation may end it.
            return _inFlight = Task.Run(() => FetchCoreAsync(attempt));
        }
    }

    private async Task FetchCoreAsync(DateTimeOffset attempt)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _url);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await _http.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new JwksFetchException($"the identity provider answered HTTP {(int)response.StatusCode}");
            }
            if (response.Content.Headers.ContentLength > MaxBytes)
            {
                throw new JwksFetchException($"the key set is larger than {MaxBytes} bytes");
            }
            var body = await ReadCappedAsync(response.Content).ConfigureAwait(false);
            JsonNode? document;
            try
            {
                document = JsonNode.Parse(body);
            }
            catch (JsonException ex)
            {
                throw new JwksFetchException("the key set is not valid JSON: " + ex.Message);
            }
            var keys = JsonWebKeySet.Parse(document, out var error) ?? throw new JwksFetchException("the key set is unusable: " + error);
            var previous = _state;
            _state = new JwksState(keys, _time.GetUtcNow(), attempt, null);
            if (previous.Keys is null || previous.Problem is not null)
            {
                _logger.LogInformation("JWT signing keys: {Count} from {Host}", keys.Count, _url.Host);
            }
        }
        catch (Exception ex)
        {
            // Whatever went wrong, it is a state to report: the last good keys (if any) keep serving.
            var problem = ex switch
            {
                JwksFetchException => ex.Message,
                TaskCanceledException => "the identity provider did not answer in time",
                HttpRequestException h => "the identity provider could not be reached: " + h.Message,
                _ => ex.Message,
            };
            var state = _state;
            _state = state with { Problem = problem };
            _logger.LogWarning("JWT signing keys could not be fetched from {Host}: {Problem}; {Consequence}", _url.Host, problem,
                state.Keys is null ? "JWT requests get 503 until a fetch succeeds" : $"the {state.Keys.Count} keys fetched earlier keep serving");
        }
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content)
    {
        await using var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
        using var memory = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (memory.Length + read > MaxBytes)
            {
                throw new JwksFetchException($"the key set is larger than {MaxBytes} bytes");
            }
            memory.Write(buffer, 0, read);
        }
        return memory.ToArray();
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private sealed class JwksFetchException(string message) : Exception(message);
}

/// <summary>What the key source knows: the keys (null until a fetch succeeded), when it last fetched, and the last fetch's problem.</summary>
internal sealed record JwksState(JsonWebKeySet? Keys, DateTimeOffset? LastSuccess, DateTimeOffset? LastAttempt, string? Problem);
