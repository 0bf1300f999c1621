using System.Buffers;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>A client-facing LLM protocol (OpenAI chat, Anthropic messages, OpenAI responses) translated to and from canonical chat.</summary>
public interface IIngressProtocol
{
    EndpointKind Endpoint { get; }

    /// <summary>The client's request as an OpenAI chat request. Throws <see cref="TranslationException"/> (400) for what cannot be expressed.</summary>
    JsonObject ToChat(ReadOnlyMemory<byte> body);

    /// <summary>A <c>chat.completion</c> as the client's response body.</summary>
    byte[] FromChat(JsonObject completion, ChatCall call);

    /// <summary>An encoder that writes canonical chunks as the client's event stream.</summary>
    IClientStreamEncoder CreateStreamEncoder(ChatCall call);

    /// <summary>A provider's error in the client's error shape.</summary>
    byte[] ErrorBody(int status, ProviderError error, string provider);
}

/// <summary>Writes canonical <c>chat.completion.chunk</c>s as one client's event stream.</summary>
public interface IClientStreamEncoder
{
    void Encode(JsonObject chunk, IBufferWriter<byte> output);

    /// <summary>Ends the stream (e.g. <c>data: [DONE]</c>).</summary>
    void Finish(IBufferWriter<byte> output);

    /// <summary>The upstream broke off with a translation failure; write what the client's protocol uses for a stream error, if anything.</summary>
    void Fail(string message, IBufferWriter<byte> output);
}

/// <summary>The ingress protocol for each translatable endpoint.</summary>
public static class IngressProtocols
{
    private static readonly IIngressProtocol Chat = new ChatIngress();
    private static readonly IIngressProtocol Messages = new MessagesIngress();
    private static readonly IIngressProtocol Responses = new ResponsesIngress();

    public static IIngressProtocol? For(EndpointKind endpoint) => endpoint switch
    {
        EndpointKind.ChatComplete => Chat,
        EndpointKind.Messages => Messages,
        EndpointKind.CreateModelResponse => Responses,
        _ => null,
    };
}
