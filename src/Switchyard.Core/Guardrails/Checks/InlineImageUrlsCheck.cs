using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.inlineImageUrls</c>: downloads image URLs of the request and inlines them as base64 data.</summary>
/// <remarks>
/// The URLs are chosen by the client, so each one (and every redirect) goes through the SSRF rules before the gateway
/// connects; a refused URL is reported in <c>data.errors</c> and left as it was. Handles OpenAI <c>image_url</c> parts,
/// Anthropic <c>image</c> blocks with a <c>url</c> source and Responses <c>input_image</c> parts.
/// </remarks>
internal sealed class InlineImageUrlsCheck(GuardrailServices services, long maxSizeBytes, TimeSpan timeout, List<string>? providers, bool failOnError) : IGuardrailCheck
{
    private const int Concurrency = 4;

    private static readonly Dictionary<string, string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jpg"] = "image/jpeg", ["jpeg"] = "image/jpeg", ["png"] = "image/png", ["gif"] = "image/gif", ["webp"] = "image/webp",
        ["bmp"] = "image/bmp", ["svg"] = "image/svg+xml", ["ico"] = "image/x-icon", ["tiff"] = "image/tiff", ["tif"] = "image/tiff",
    };

    public bool MayTransform => true;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var maxSize = p.Number("maxSizeBytes", 20 * 1024 * 1024, integer: true, min: 1) ?? 20 * 1024 * 1024;
        var timeoutMs = p.Number("timeoutMs", 30000, min: 1) ?? 30000;
        var providers = p.StringArray("providers", required: false, allowEmpty: true);
        var failOnError = p.Bool("failOnError");
        return p.Ok ? new InlineImageUrlsCheck(p.Services, (long)maxSize, TimeSpan.FromMilliseconds(timeoutMs), providers, failOnError) : null;
    }

    public async ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        if (ev != HookEvent.BeforeRequest || context.RequestType is not ("chatComplete" or "messages" or "createModelResponse"))
        {
            return new CheckOutcome(true, new JsonObject { ["skipped"] = true, ["reason"] = "Not applicable for this request type" });
        }
        if (providers is { Count: > 0 } && context.Provider is { } provider && !providers.Contains(provider))
        {
            return new CheckOutcome(true, new JsonObject { ["skipped"] = true, ["reason"] = $"Provider '{provider}' not in target providers list" });
        }

        var copy = (JsonObject)context.RequestJson.DeepClone();
        var images = FindImages(copy);
        if (images.Count == 0)
        {
            return new CheckOutcome(true, new JsonObject { ["imagesConverted"] = 0, ["errors"] = new JsonArray(), ["provider"] = context.Provider });
        }

        using var gate = new SemaphoreSlim(Concurrency);
        var fetches = images.Select(async image =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return (image, result: await FetchAsync(image.Url, ct).ConfigureAwait(false));
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var converted = 0;
        var errors = new JsonArray();
        foreach (var (image, result) in await Task.WhenAll(fetches).ConfigureAwait(false))
        {
            if (result.Error is not null)
            {
                errors.Add((JsonNode)new JsonObject { ["url"] = image.Url, ["error"] = result.Error });
                continue;
            }
            image.Apply(result.MimeType!, result.Base64!);
            converted++;
        }

        if (failOnError && errors.Count > 0)
        {
            var first = (string)errors[0]!["error"]!;
            return new CheckOutcome(false, new JsonObject { ["explanation"] = $"Error converting image URLs: {first}", ["errors"] = errors },
                new CheckError("InlineImageUrlsError", first));
        }
        var data = new JsonObject { ["imagesConverted"] = converted, ["errors"] = errors, ["provider"] = context.Provider };
        return new CheckOutcome(true, data, Transformed: converted > 0) { TransformedRequest = converted > 0 ? copy : null };
    }

    private async Task<(string? MimeType, string? Base64, string? Error)> FetchAsync(string url, CancellationToken ct)
    {
        if (!GuardedUrl.TryCreate(services.Hosts, url, out var uri, out var refused)) return (null, null, "refused: " + refused);
        try
        {
            var response = await OutboundCall.SendAsync(services, HttpMethod.Get, uri, null, [], timeout, maxSizeBytes, followRedirects: true, ct)
                .ConfigureAwait(false);
            if (!response.IsSuccess) return (null, null, $"Failed to fetch image: {(int)response.Status} {response.Reason}");
            var mime = response.ContentType?.MediaType;
            if (mime is null || !mime.StartsWith("image/", StringComparison.OrdinalIgnoreCase)) mime = MimeFromPath(uri);
            return (mime, Convert.ToBase64String(response.Body), null);
        }
        catch (TimeoutException)
        {
            return (null, null, $"Image fetch timed out after {(long)timeout.TotalMilliseconds}ms: {url}");
        }
        catch (OutboundCallException ex)
        {
            return (null, null, ex.TooLarge ? $"Image exceeds maximum allowed size ({maxSizeBytes} bytes)" : ex.Message);
        }
    }

    private static string MimeFromPath(Uri uri)
    {
        var path = uri.AbsolutePath;
        var dot = path.LastIndexOf('.');
        return dot >= 0 && Extensions.TryGetValue(path[(dot + 1)..], out var mime) ? mime : "image/jpeg";
    }

    private static bool IsRemote(string? url) =>
        url is not null && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Every remote image of the body (in the copy), with how to write its inlined form back.</summary>
    private static List<ImageRef> FindImages(JsonObject body)
    {
        var found = new List<ImageRef>();
        var lists = new List<JsonArray>();
        if (body["messages"] is JsonArray messages) lists.Add(messages);
        if (body["input"] is JsonArray input) lists.Add(input);
        foreach (var list in lists)
        {
            foreach (var message in list)
            {
                if (message is not JsonObject m || m["content"] is not JsonArray parts) continue;
                foreach (var node in parts)
                {
                    if (node is not JsonObject part) continue;
                    switch (ContentLocator.ChatText(part["type"]))
                    {
                        case "image_url" when part["image_url"] is JsonObject imageUrl && ContentLocator.ChatText(imageUrl["url"]) is { } u && IsRemote(u):
                            found.Add(new ImageRef(u, (mime, data) => imageUrl["url"] = $"data:{mime};base64,{data}"));
                            break;
                        case "image" when part["source"] is JsonObject source && ContentLocator.ChatText(source["type"]) == "url"
                                          && ContentLocator.ChatText(source["url"]) is { } su && IsRemote(su):
                            found.Add(new ImageRef(su, (mime, data) => part["source"] = new JsonObject
                            {
                                ["type"] = "base64",
                                ["media_type"] = mime,
                                ["data"] = data,
                            }));
                            break;
                        case "input_image" when ContentLocator.ChatText(part["image_url"]) is { } iu && IsRemote(iu):
                            found.Add(new ImageRef(iu, (mime, data) => part["image_url"] = $"data:{mime};base64,{data}"));
                            break;
                    }
                }
            }
        }
        return found;
    }

    private sealed record ImageRef(string Url, Action<string, string> Apply);
}
