using System.Buffers.Binary;
using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;
using Switchyard.Simulators.Embeddings;
using Xunit;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>The local all-MiniLM-L6-v2 server speaks OpenAI's /v1/embeddings wire format, errors included, and the official SDK can use it.</summary>
public sealed class LocalEmbeddingServerTests : IAsyncLifetime
{
    private LocalEmbeddingServer _server = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _server = await LocalEmbeddingServer.StartAsync("sk-test-embed");

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string json, string? key = "sk-test-embed", string path = "/embeddings")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.BaseUrl + path)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task A_string_input_gets_a_384_float_unit_vector_in_the_openai_list_shape()
    {
        var (status, body) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"How do I reset my password?"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal("all-MiniLM-L6-v2", body.GetProperty("model").GetString());
        var item = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        var vector = item.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(384, vector.Length);
        Assert.Equal(1.0, TensorPrimitives.Norm(vector), 3);
        var usage = body.GetProperty("usage");
        Assert.InRange(usage.GetProperty("prompt_tokens").GetInt32(), 6, 12);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Base64_is_little_endian_float32_of_the_same_vector_and_arrays_keep_their_order()
    {
        var (_, floats) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":["weather in Paris","reset my password"]}""");
        var (status, encoded) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":["weather in Paris","reset my password"],"encoding_format":"base64"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var data = encoded.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        for (var i = 0; i < 2; i++)
        {
            var bytes = Convert.FromBase64String(data[i].GetProperty("embedding").GetString()!);
            Assert.Equal(384 * 4, bytes.Length);
            var expected = floats.GetProperty("data")[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var decoded = Enumerable.Range(0, 384).Select(k => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(k * 4))).ToArray();
            Assert.Equal(expected, decoded);
        }

        var direct = await LocalEmbeddingServer.EncodeAsync(["reset my password"], CancellationToken.None);
        Assert.Equal(direct[0], floats.GetProperty("data")[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task Dimensions_shortens_and_renormalises_up_to_the_native_size_and_beyond_is_a_400()
    {
        var (status, body) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hello","dimensions":64}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var vector = body.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(64, vector.Length);
        Assert.Equal(1.0, TensorPrimitives.Norm(vector), 3);

        var (tooMany, error) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hello","dimensions":385}""");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany);
        Assert.Equal("dimensions", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":[1,2,3]}""", "input")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":[[1,2],[3]]}""", "input")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":""}""", "input")]
    [InlineData("""{"model":"all-MiniLM-L6-v2"}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":"hi"}""", "model")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hi","encoding_format":"int8"}""", "encoding_format")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hi","dimensions":0}""", "dimensions")]
    public async Task Bad_requests_get_openai_shaped_400s_naming_the_parameter(string json, string param)
    {
        var (status, body) = await PostAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Unknown_fields_malformed_json_missing_or_wrong_keys_and_other_paths_are_refused()
    {
        var (unknown, unknownBody) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hi","temperature":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Contains("temperature", unknownBody.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("{not json")).Status);

        var (missing, missingBody) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hi"}""", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Equal(JsonValueKind.Null, missingBody.GetProperty("error").GetProperty("code").ValueKind);
        var (wrong, wrongBody) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hi"}""", key: "sk-wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        Assert.Equal("invalid_api_key", wrongBody.GetProperty("error").GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"hi"}""", path: "/embedding")).Status);
    }

    [Fact]
    public async Task The_official_openai_sdk_gets_the_same_vectors_through_its_default_base64_path()
    {
        var client = new EmbeddingClient(LocalEmbeddingServer.ModelName, new ApiKeyCredential("sk-test-embed"), new OpenAIClientOptions { Endpoint = _server.BaseUrl });
        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("How do I reset my password?", new EmbeddingGenerationOptions { Dimensions = 128 });
        var vector = embedding.ToFloats().ToArray();
        Assert.Equal(128, vector.Length);
        var (_, body) = await PostAsync("""{"model":"all-MiniLM-L6-v2","input":"How do I reset my password?","dimensions":128}""");
        Assert.Equal(body.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()), vector);
    }
}
