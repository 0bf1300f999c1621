using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Routing;

/// <summary>Applies <c>override_params</c> and a provider's dropped parameters; otherwise returns the client's bytes untouched.</summary>
public static class RequestBodyRewriter
{
    public static ReadOnlyMemory<byte> Prepare(GatewayRequest request, ResolvedTarget target)
    {
        if (!request.Endpoint.HasJsonBody() || !request.IsJson || !request.BodyFacts.IsObject)
        {
            return request.Body;
        }
        var overrides = target.Settings.OverrideParams;
        var dropped = target.Provider.DroppedParameters;
        var mustDrop = dropped.Count > 0 && HasAnyTopLevel(request.Body.Span, dropped);
        if ((overrides is null || overrides.Count == 0) && !mustDrop)
        {
            return request.Body;
        }
        var body = (JsonObject)JsonNode.Parse(request.Body.Span)!;
        if (overrides is not null)
        {
            foreach (var (key, value) in overrides)
            {
                body[key] = value?.DeepClone();
            }
        }
        if (mustDrop)
        {
            foreach (var name in dropped)
            {
                body.Remove(name);
            }
        }
        var output = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        using (var writer = new Utf8JsonWriter(output))
        {
            body.WriteTo(writer);
        }
        return output.WrittenMemory;
    }

    private static bool HasAnyTopLevel(ReadOnlySpan<byte> json, IReadOnlyList<string> names)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            foreach (var name in names)
            {
                if (reader.ValueTextEquals(name))
                {
                    return true;
                }
            }
            reader.Read();
            reader.Skip();
        }
        return false;
    }
}
