using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Caching.Semantic;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>Test-only <see cref="IEmbedder"/> calling an OpenAI-compatible <c>/v1/embeddings</c> endpoint (base64 floats, re-normalised).</summary>
internal sealed class OpenAiEmbeddingHttpClient(HttpClient http, Uri baseUrl, string apiKey, string model, int dimensions, double defaultThreshold) : IEmbedder
{
    public string Name => $"openai-embeddings:{model}/{dimensions}";

    public int Dimensions => dimensions;

    public double DefaultThreshold => defaultThreshold;

    public async ValueTask<float[]> EmbedAsync(string text, CancellationToken ct) => (await EmbedManyAsync([text], ct))[0];

    /// <summary>One request for many inputs, returned in input order whatever order the server lists them in.</summary>
    public async Task<float[][]> EmbedManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["input"] = new JsonArray(texts.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["encoding_format"] = "base64",
            ["dimensions"] = dimensions,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl + "/embeddings"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request, ct);
        var json = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"embeddings endpoint answered {(int)response.StatusCode}: {json}");
        }

        using var document = JsonDocument.Parse(json);
        var vectors = new float[texts.Count][];
        foreach (var item in document.RootElement.GetProperty("data").EnumerateArray())
        {
            var bytes = Convert.FromBase64String(item.GetProperty("embedding").GetString()!);
            var vector = new float[bytes.Length / sizeof(float)];
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
            }

            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
            if (norm > 0)
            {
                System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
            }

            vectors[item.GetProperty("index").GetInt32()] = vector;
        }

        return vectors;
    }
}
