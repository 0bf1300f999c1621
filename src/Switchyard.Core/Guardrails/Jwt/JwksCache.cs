using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails.Jwt;

/// <summary>Key sets fetched from <c>jwksUri</c>, cached per URI for the check's <c>cacheMaxAge</c>, one fetch at a time per URI.</summary>
/// <remarks>
/// Portkey refetches on every unknown <c>kid</c>, so a client sending random kids makes the gateway hammer the identity
/// provider. Here an unknown kid refetches at most once per interval; a real key rotation is
/// still picked up within that interval (<see cref="GuardrailServices.JwksMinRefetchInterval"/>).
/// </remarks>
public sealed class JwksCache
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    private readonly GuardrailServices _services;
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    internal JwksCache(GuardrailServices services) => _services = services;

    private int _fetchCount;

    /// <summary>How many times a key set was fetched (all URIs); for diagnostics.</summary>
    public int FetchCount => _fetchCount;

    /// <summary>The cached key set, fetched when absent or older than <paramref name="maxAge"/>.</summary>
    internal Task<JsonWebKeySet> GetAsync(Uri uri, TimeSpan maxAge, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(uri.AbsoluteUri, _ => new Slot());
        var current = slot.Current;
        if (current is not null && _services.Time.GetUtcNow() - current.FetchedAt < maxAge) return Task.FromResult(current.Keys);
        return FetchAsync(slot, uri, ct);
    }

    /// <summary>A fresh key set after an unknown kid, unless the cached one is younger than <see cref="GuardrailServices.JwksMinRefetchInterval"/>.</summary>
    internal Task<JsonWebKeySet> RefreshAsync(Uri uri, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(uri.AbsoluteUri, _ => new Slot());
        var current = slot.Current;
        if (current is not null && _services.Time.GetUtcNow() - current.FetchedAt < _services.JwksMinRefetchInterval) return Task.FromResult(current.Keys);
        return FetchAsync(slot, uri, ct);
    }

    private Task<JsonWebKeySet> FetchAsync(Slot slot, Uri uri, CancellationToken ct)
    {
        Task<JsonWebKeySet> task;
        lock (slot)
        {
            if (slot.InFlight is { IsCompleted: false } running) return running.WaitAsync(ct);
            // The fetch is shared by concurrent callers, so it must not die with the first caller's token.
            task = slot.InFlight = FetchCoreAsync(slot, uri);
        }
        return task.WaitAsync(ct);
    }

    private async Task<JsonWebKeySet> FetchCoreAsync(Slot slot, Uri uri)
    {
        Interlocked.Increment(ref _fetchCount);
        var response = await OutboundCall.SendAsync(_services, HttpMethod.Get, uri, null, [new("Accept", "application/json")],
            FetchTimeout, _services.MaxResponseBytes, followRedirects: true, CancellationToken.None).ConfigureAwait(false);
        if (!response.IsSuccess) throw new InvalidOperationException($"Failed to fetch JWKS from {uri}: HTTP {(int)response.Status}");
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(response.Body);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The JWKS at {uri} is not valid JSON: {ex.Message}");
        }
        var keys = JsonWebKeySet.Parse(document, out var error) ?? throw new InvalidOperationException($"The JWKS at {uri} is unusable: {error}");
        slot.Current = new Entry(keys, _services.Time.GetUtcNow());
        return keys;
    }

    private sealed class Slot
    {
        public volatile Entry? Current;
        public Task<JsonWebKeySet>? InFlight;
    }

    private sealed record Entry(JsonWebKeySet Keys, DateTimeOffset FetchedAt);
}
