using System.Text.Json.Nodes;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Tests.Providers.Google;

/// <summary>Builds <see cref="ChatCall"/>s for unit tests of the Gemini codec.</summary>
internal static class GeminiUnit
{
    public static ChatCall Call(JsonObject body, string provider = "google", IReadOnlyDictionary<string, string>? fields = null, string? baseUrl = null, string? apiKey = "k")
    {
        ProviderRegistry.Default.TryGetProvider(provider, out var descriptor);
        return new ChatCall
        {
            Request = new GatewayRequest
            {
                Method = "POST",
                Endpoint = EndpointKind.ChatComplete,
                Path = "/v1/chat/completions",
                UpstreamPath = "/chat/completions",
                Headers = new HeaderBag(),
            },
            Target = new ResolvedTarget
            {
                Provider = descriptor,
                ApiKey = apiKey,
                BaseUrl = baseUrl ?? descriptor.BaseUrl!,
                Settings = TargetSettings.Empty,
                ProviderFields = fields ?? new Dictionary<string, string>(),
            },
            Body = body,
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
    }
}
