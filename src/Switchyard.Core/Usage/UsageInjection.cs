using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Usage;

/// <summary>Adds <c>stream_options.include_usage: true</c> to a chat request that lacks it.</summary>
internal static class UsageInjection
{
    public static bool TryAdd(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> withUsage)
    {
        withUsage = body;
        if (body.Span.IndexOf("\"include_usage\":true"u8) >= 0)
        {
            return false; // The client asked already (the common SDK spelling): no parse needed.
        }
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
        if (root is null || ChatIngress.ClientAskedForUsage(root))
        {
            return false;
        }
        var options = root["stream_options"] as JsonObject ?? new JsonObject();
        options["include_usage"] = true;
        root["stream_options"] = options;
        withUsage = ChatJson.Serialize(root);
        return true;
    }
}
