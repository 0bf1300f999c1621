using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Switchyard.Core.Caching.Semantic;
using Switchyard.Core.Configs;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Caching;

/// <summary>
/// Embeddings from a provider the gateway serves (OpenAI <c>text-embedding-3-small</c>, any OpenAI-compatible server
/// at <c>SEMANTIC_CACHE_EMBEDDINGS_URL</c>, …): each text becomes a <c>POST /v1/embeddings</c> routed through the
/// gateway's own router, so provider auth, base URLs and timeouts work as for client requests.
/// </summary>
public sealed class TargetEmbedder : IEmbedder
{
    private static readonly RoutingConfig Single = new()
    {
        Root = new ConfigNode { OptionPath = "config", Settings = TargetSettings.Empty },
        Source = "semantic-cache-embedder",
    };

    private readonly CacheOptions _options;
    private readonly RoutePlan _plan;
    private readonly Func<GatewayRequest, RoutePlan, CancellationToken, Task<HttpResponseMessage>> _send;

    /// <param name="send">Serves a request through the gateway's own router (the engine provides it), so provider auth, base URLs and timeouts apply.</param>
    public TargetEmbedder(CacheOptions options, Func<GatewayRequest, RoutePlan, CancellationToken, Task<HttpResponseMessage>> send)
    {
        _options = options;
        _send = send;
        _plan = new RoutePlan
        {
            Config = Single,
            Mode = "headers",
            Headers = new HeaderDefaults
            {
                Provider = options.EmbeddingProvider,
                ApiKey = options.EmbeddingApiKey,
                // Set by the operator, not a client: trusted like PROVIDER_BASE_URLS.
                CustomHost = options.EmbeddingUrl?.TrimEnd('/'),
            },
        };
        Name = $"{options.EmbeddingProvider}/{options.EmbeddingModel}" + (options.EmbeddingDimensions is { } d ? $"/{d}" : "");
    }

    public string Name { get; }

    public int Dimensions => _options.EmbeddingDimensions ?? 0;

    /// <summary>Portkey's default for OpenAI embeddings; other models score differently, so set SEMANTIC_CACHE_SIMILARITY_THRESHOLD for them.</summary>
    public double DefaultThreshold => 0.95;

    public async ValueTask<float[]> EmbedAsync(string text, CancellationToken ct)
    {
        var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("model", _options.EmbeddingModel);
            json.WriteString("input", text);
            if (_options.EmbeddingDimensions is { } dimensions)
            {
                json.WriteNumber("dimensions", dimensions);
            }
            json.WriteEndObject();
        }
        var request = new GatewayRequest
        {
            Method = "POST",
            Endpoint = EndpointKind.Embed,
            Path = "/v1/embeddings",
            UpstreamPath = "/embeddings",
            Headers = new HeaderBag(),
            Body = body.ToArray(),
            ContentType = "application/json",
        };
        HttpResponseMessage response;
        try
        {
            response = await _send(request, _plan, ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"embedding target {Name}: {ex.Message}", ex);
        }
        using var _ = response;
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"embedding target {Name} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)))}");
        }
        return Normalise(Read(bytes));
    }

    private float[] Read(byte[] bytes)
    {
        using var doc = JsonDocument.Parse(bytes);
        if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0
            || !data[0].TryGetProperty("embedding", out var embedding))
        {
            throw new InvalidOperationException($"embedding target {Name} sent no data[0].embedding");
        }
        if (embedding.ValueKind == JsonValueKind.String)
        {
            // encoding_format base64: little-endian float32.
            var raw = Convert.FromBase64String(embedding.GetString()!);
            var floats = new float[raw.Length / 4];
            for (var i = 0; i < floats.Length; i++)
            {
                floats[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4));
            }
            return floats;
        }
        var vector = new float[embedding.GetArrayLength()];
        var k = 0;
        foreach (var item in embedding.EnumerateArray())
        {
            vector[k++] = item.GetSingle();
        }
        return vector;
    }

    private static float[] Normalise(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
        return vector;
    }
}
