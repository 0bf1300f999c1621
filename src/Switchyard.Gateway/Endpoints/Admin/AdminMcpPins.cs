using Switchyard.Gateway.Mcp.Policy;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// <c>/v1/admin/mcp/pins</c>: the MCP tool-definition pins (list, accept a changed definition, forget a pin). Without the MCP
/// gateway (<c>SERVER_MODE</c> empty) there are no pins and these answer 404. A server id with a workspace is written with its
/// slash encoded (<c>acme%2Ffs</c>).
/// </summary>
internal sealed class AdminMcpPins(IServiceProvider services)
{
    private McpToolPins? Pins => services.GetService<McpToolPins>();

    public Task ListAsync(HttpContext context)
    {
        if (Pins is not { } pins)
        {
            return NotEnabledAsync(context);
        }
        var list = pins.List();
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("count", list.Count);
            json.WriteNumber("changed", list.Count(p => p.Changed));
            AdminResponses.WriteNullable(json, "file", pins.FilePath);
            json.WriteStartArray("pins");
            foreach (var pin in list)
            {
                Write(json, pin);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public Task AcceptAsync(HttpContext context, string server, string tool)
    {
        if (Pins is not { } pins)
        {
            return NotEnabledAsync(context);
        }
        (server, tool) = (Uri.UnescapeDataString(server), Uri.UnescapeDataString(tool));
        if (!pins.Accept(server, tool))
        {
            return NoPinAsync(context, server, tool);
        }
        var pin = pins.Get(server, tool)!;
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json => Write(json, pin));
    }

    public Task ForgetAsync(HttpContext context, string server, string tool)
    {
        if (Pins is not { } pins)
        {
            return NotEnabledAsync(context);
        }
        (server, tool) = (Uri.UnescapeDataString(server), Uri.UnescapeDataString(tool));
        if (!pins.Forget(server, tool))
        {
            return NoPinAsync(context, server, tool);
        }
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteString("server", server);
            json.WriteString("tool", tool);
            json.WriteBoolean("forgotten", true);
            json.WriteEndObject();
        });
    }

    private static void Write(System.Text.Json.Utf8JsonWriter json, McpToolPin pin)
    {
        json.WriteStartObject();
        json.WriteString("server", pin.Server);
        json.WriteString("tool", pin.Tool);
        json.WriteString("hash", pin.Hash);
        AdminResponses.WriteNullable(json, "current_hash", pin.CurrentHash);
        json.WriteBoolean("changed", pin.Changed);
        AdminResponses.WriteStrings(json, "changed_fields", pin.ChangedFields);
        json.WriteString("first_seen", pin.FirstSeen);
        if (pin.ChangedAt is { } at)
        {
            json.WriteString("changed_at", at);
        }
        else
        {
            json.WriteNull("changed_at");
        }
        json.WriteEndObject();
    }

    private static Task NotEnabledAsync(HttpContext context) =>
        AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", "The MCP gateway is not enabled (SERVER_MODE=mcp or all): there are no tool pins");

    private static Task NoPinAsync(HttpContext context, string server, string tool) =>
        AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", $"No pin for tool '{tool}' of MCP server '{server}'");
}
