namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// <c>GET /v1/admin/openapi.json</c>: the admin API's OpenAPI 3.1 document, written by hand and embedded (the gateway is published
/// trimmed; a test checks the document against the mapped routes, so a route cannot be added without it).
/// </summary>
internal static class AdminOpenApi
{
    public const string ResourceName = "Switchyard.Gateway.Endpoints.Admin.admin-openapi.json";

    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(AdminOpenApi).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static byte[] Bytes => Document.Value;

    public static Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Bytes.Length;
        return context.Response.Body.WriteAsync(Bytes, context.RequestAborted).AsTask();
    }
}
