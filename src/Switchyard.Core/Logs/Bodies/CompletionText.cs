using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Logs.Bodies;

/// <summary>The text a model generated, read from a final answer in any format the gateway relays (for token estimates).</summary>
public static class CompletionText
{
    /// <summary>Content, reasoning, refusals and tool-call names and arguments, in order; empty when there are none.</summary>
    public static string From(JsonObject? answer)
    {
        if (answer is null)
        {
            return "";
        }
        var text = new StringBuilder();
        if (answer["choices"] is JsonArray choices)
        {
            foreach (var choice in choices.OfType<JsonObject>())
            {
                Add(text, choice["text"]);
                if (choice["message"] is JsonObject message)
                {
                    Add(text, message["reasoning_content"]);
                    Add(text, message["content"]);
                    Add(text, message["refusal"]);
                    if (message["tool_calls"] is JsonArray calls)
                    {
                        foreach (var call in calls.OfType<JsonObject>())
                        {
                            Add(text, call["function"]?["name"]);
                            Add(text, call["function"]?["arguments"]);
                        }
                    }
                }
            }
        }
        else if (answer["content"] is JsonArray blocks)
        {
            // Anthropic Messages.
            foreach (var block in blocks.OfType<JsonObject>())
            {
                Add(text, block["text"]);
                Add(text, block["thinking"]);
                if (block["input"] is { } input)
                {
                    Add(text, block["name"]);
                    text.Append(input is JsonValue v && v.TryGetValue<string>(out var s) ? s : input.ToJsonString());
                }
            }
        }
        else if (answer["output"] is JsonArray output)
        {
            // OpenAI Responses.
            foreach (var item in output.OfType<JsonObject>())
            {
                Add(text, item["arguments"]);
                if (item["content"] is JsonArray parts)
                {
                    foreach (var part in parts.OfType<JsonObject>())
                    {
                        Add(text, part["text"]);
                    }
                }
                if (item["summary"] is JsonArray summary)
                {
                    foreach (var part in summary.OfType<JsonObject>())
                    {
                        Add(text, part["text"]);
                    }
                }
            }
        }
        return text.ToString();
    }

    private static void Add(StringBuilder text, JsonNode? node)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0)
        {
            text.Append(s);
        }
        else if (node is JsonArray parts)
        {
            // Content given as parts.
            foreach (var part in parts.OfType<JsonObject>())
            {
                Add(text, part["text"]);
            }
        }
    }
}
