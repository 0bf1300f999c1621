using Switchyard.Core.Security.VirtualKeys;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary><c>GET /v1/admin/virtual-keys</c>: the virtual keys the gateway knows, never their credentials.</summary>
internal static class AdminVirtualKeys
{
    public static Task ListAsync(HttpContext context, IReadOnlyCollection<VirtualKey> keys) =>
        AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("count", keys.Count);
            json.WriteStartArray("virtual_keys");
            foreach (var key in keys.OrderBy(k => k.Slug, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("slug", key.Slug);
                json.WriteString("provider", key.Provider);
                AdminResponses.WriteStrings(json, "models", key.Models?.Order(StringComparer.Ordinal));
                AdminResponses.WriteNullable(json, "description", key.Description);
                json.WriteString("file", key.File);
                AdminResponses.WriteLimits(json, key.Limits);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
}
