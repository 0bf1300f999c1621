namespace Switchyard.Simulators;

/// <summary><c>POST …/images/generations</c>: <c>n</c> images as URLs or inline base64 PNGs.</summary>
internal static class ImagesEndpoint
{
    public static SimReply Handle(SimRequest request)
    {
        if (request.ParseJsonObject() is { } invalid)
        {
            return invalid;
        }

        var root = request.Root;
        var prompt = RequestFields.OptionalString(root, "prompt");
        if (string.IsNullOrEmpty(prompt))
        {
            return OpenAiErrors.MissingParameter("prompt");
        }

        if (RequestFields.OptionalPositiveInt(root, "n", 1, out var count) is { } badCount)
        {
            return badCount;
        }

        var model = RequestFields.OptionalString(root, "model") ?? "dall-e-2";
        var format = RequestFields.OptionalString(root, "response_format") ?? "url";
        if (format is not ("url" or "b64_json"))
        {
            return OpenAiErrors.InvalidRequest($"Invalid value: '{format}'. Supported values are: 'url' and 'b64_json'.", "response_format", "invalid_value");
        }

        // gpt-image models only ever return base64, whatever was asked for.
        var inline = format == "b64_json" || model.StartsWith("gpt-image", StringComparison.Ordinal);
        var hash = DeterministicVector.Fnv1a(prompt);
        var png = inline ? Convert.ToBase64String(TinyPng.Solid((byte)hash, (byte)(hash >> 8), (byte)(hash >> 16))) : null;
        var id = ResponseIds.New("img-");

        return SimReply.Json(JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("created", ResponseIds.UnixNow());
            w.WriteStartArray("data");
            for (var i = 0; i < count; i++)
            {
                w.WriteStartObject();
                if (png is not null)
                {
                    w.WriteString("b64_json", png);
                }
                else
                {
                    // The reserved .invalid domain makes clear the URL is fake and never resolves.
                    w.WriteString("url", $"https://images.simulator.invalid/{request.Options.Name}/{id}-{i}.png");
                }

                if (model == "dall-e-3")
                {
                    w.WriteString("revised_prompt", prompt);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }
}
