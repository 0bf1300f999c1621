namespace Switchyard.Core.Requests;

/// <summary>What a client asked the gateway to do; Portkey's internal "fn" names are kept for logs and rules.</summary>
public enum EndpointKind
{
    ChatComplete,
    Complete,
    Embed,
    ListModels,
    ImageGenerate,
    CreateSpeech,
    CreateTranscription,
    CreateTranslation,
    Moderate,
    Rerank,

    /// <summary>Anthropic's Messages API, <c>POST /v1/messages</c>.</summary>
    Messages,

    /// <summary>OpenAI's Responses API, <c>POST /v1/responses</c>.</summary>
    CreateModelResponse,
    Proxy,
}

/// <summary>Portkey fn names and path mapping for <see cref="EndpointKind"/>.</summary>
public static class EndpointKinds
{
    public static string FnName(this EndpointKind kind) => kind switch
    {
        EndpointKind.ChatComplete => "chatComplete",
        EndpointKind.Complete => "complete",
        EndpointKind.Embed => "embed",
        EndpointKind.ListModels => "listModels",
        EndpointKind.ImageGenerate => "imageGenerate",
        EndpointKind.CreateSpeech => "createSpeech",
        EndpointKind.CreateTranscription => "createTranscription",
        EndpointKind.CreateTranslation => "createTranslation",
        EndpointKind.Moderate => "moderate",
        EndpointKind.Rerank => "rerank",
        EndpointKind.Messages => "messages",
        EndpointKind.CreateModelResponse => "createModelResponse",
        _ => "proxy",
    };

    /// <summary>Classifies a path below <c>/v1</c> (e.g. <c>/chat/completions</c>).</summary>
    public static EndpointKind FromUpstreamPath(string method, string upstreamPath)
    {
        if (method == "GET")
        {
            return upstreamPath is "/models" ? EndpointKind.ListModels : EndpointKind.Proxy;
        }
        if (method != "POST")
        {
            return EndpointKind.Proxy;
        }
        return upstreamPath switch
        {
            "/chat/completions" => EndpointKind.ChatComplete,
            "/completions" => EndpointKind.Complete,
            "/embeddings" => EndpointKind.Embed,
            "/images/generations" => EndpointKind.ImageGenerate,
            "/audio/speech" => EndpointKind.CreateSpeech,
            "/audio/transcriptions" => EndpointKind.CreateTranscription,
            "/audio/translations" => EndpointKind.CreateTranslation,
            "/moderations" => EndpointKind.Moderate,
            "/rerank" => EndpointKind.Rerank,
            "/messages" => EndpointKind.Messages,
            "/responses" => EndpointKind.CreateModelResponse,
            _ => EndpointKind.Proxy,
        };
    }

    /// <summary>The LLM protocols the gateway translates between (OpenAI chat, Anthropic messages, OpenAI responses).</summary>
    public static bool IsTranslatable(this EndpointKind kind) => kind is EndpointKind.ChatComplete or EndpointKind.Messages or EndpointKind.CreateModelResponse;

    /// <summary>Endpoints whose JSON body the gateway understands (model, stream, override_params).</summary>
    public static bool HasJsonBody(this EndpointKind kind) => kind is EndpointKind.ChatComplete or EndpointKind.Complete
        or EndpointKind.Embed or EndpointKind.ImageGenerate or EndpointKind.CreateSpeech or EndpointKind.Moderate or EndpointKind.Rerank
        or EndpointKind.Messages or EndpointKind.CreateModelResponse;
}
