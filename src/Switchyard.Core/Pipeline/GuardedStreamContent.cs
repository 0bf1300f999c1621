using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Pii;
using Switchyard.Core.Requests;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// A streamed answer in the client's protocol as guardrails see it: an optional first event (the before-request
/// <c>hook_results</c>), text deltas redacted by <c>default.pii</c> as they pass (chat <c>choices[i].delta.content</c>,
/// completions <c>choices[i].text</c>, messages <c>content_block_delta</c> <c>delta.text</c>, responses
/// <c>response.output_text.delta</c>), and the whole text handed to <c>atEnd</c> when the stream ends.
/// </summary>
/// <remarks>
/// A redactor holds back a short tail that could still be part of a finding; it is let out (as an extra delta event
/// shaped like the slot's last one) before the next event that is not a delta of that slot, so it always precedes the
/// finish chunk, <c>content_block_stop</c>, <c>[DONE]</c> and the like. Events that repeat the whole text (responses'
/// <c>.done</c> and <c>response.completed</c>) have every <c>text</c> field redacted at once.
/// </remarks>
internal sealed class GuardedStreamContent(HttpContent inner, EndpointKind endpoint, byte[]? prefix, IReadOnlyList<PiiDetector> detectors,
    Action<string>? atEnd) : PassThroughContent(inner, copyHeaders: false)
{
    private EndpointKind Endpoint => endpoint;

    private byte[]? Prefix => prefix;

    private IReadOnlyList<PiiDetector> Detectors => detectors;

    private Action<string>? AtEnd => atEnd;

    protected override bool KeepsLength => false;

    protected override Stream Watch(Stream source) => new Filter(this, source);

    private sealed class Slot(IReadOnlyList<PiiDetector> detectors)
    {
        private readonly StreamingRedactor[] _redactors = [.. detectors.Select(d => new StreamingRedactor(d))];

        /// <summary>The slot's last delta event, to shape the event that lets out held text.</summary>
        public (string? Event, JsonObject Data, Action<JsonObject, string> SetText)? Template { get; set; }

        public bool Holding => _redactors.Any(r => r.HeldLength > 0);

        public string Push(string text)
        {
            foreach (var r in _redactors)
            {
                text = r.Push(text);
            }
            return text;
        }

        public string Flush()
        {
            var text = "";
            for (var i = 0; i < _redactors.Length; i++)
            {
                text = (text.Length > 0 ? _redactors[i].Push(text) : "") + _redactors[i].Flush();
            }
            return text;
        }
    }

    private sealed class Filter(GuardedStreamContent owner, Stream source) : PullStream
    {
        private readonly SseEventSplitter _splitter = new();
        private readonly ArrayBufferWriter<byte> _output = new(4096);
        private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
        private readonly StringBuilder _text = new();
        private int _offset;
        private bool _started;
        private bool _done;

        private bool Redacting => owner.Detectors.Count > 0;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (buffer.IsEmpty)
            {
                // A reader waiting for data: pass the wait on unless there is output (or a prefix) already.
                if (_offset >= _output.WrittenCount && !_done && (_started || owner.Prefix is null))
                {
                    _ = await source.ReadAsync(buffer, ct).ConfigureAwait(false);
                }
                return 0;
            }
            while (_offset >= _output.WrittenCount)
            {
                if (_done)
                {
                    return 0;
                }
                _output.ResetWrittenCount();
                _offset = 0;
                if (!_started)
                {
                    _started = true;
                    if (owner.Prefix is { } prefix)
                    {
                        _output.Write(prefix);
                        continue;
                    }
                }
                var n = await ReadPooledAsync(source, this, static (self, input) => self.Consume(input), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    _done = true;
                    var rest = _splitter.TakeRest();
                    if (!rest.IsEmpty)
                    {
                        Handle(rest.ToArray());
                    }
                    FlushAll();
                    owner.AtEnd?.Invoke(_text.ToString());
                    continue;
                }
            }
            var count = Math.Min(buffer.Length, _output.WrittenCount - _offset);
            _output.WrittenMemory.Slice(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        private void Consume(ReadOnlySpan<byte> input)
        {
            if (input.IsEmpty)
            {
                return;
            }
            _splitter.Append(input);
            while (_splitter.TryRead(out var evt))
            {
                Handle(evt.ToArray());
            }
        }

        private void Handle(byte[] evt)
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in SseEventSplitter.Lines(evt))
            {
                if (line.StartsWith("event:"u8))
                {
                    name = Encoding.UTF8.GetString(line[6..]).Trim();
                }
                else if (line.StartsWith("data:"u8))
                {
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }
                    var value = line[5..];
                    data.Append(Encoding.UTF8.GetString(value.Length > 0 && value[0] == (byte)' ' ? value[1..] : value));
                }
            }
            JsonObject? json = null;
            if (data.Length > 0 && data[0] == '{')
            {
                try
                {
                    json = JsonNode.Parse(data.ToString()) as JsonObject;
                }
                catch (JsonException)
                {
                    json = null;
                }
            }
            if (json is null)
            {
                FlushAll();
                _output.Write(evt);
                return;
            }
            var deltas = Deltas(name, json);
            if (deltas.Count == 0)
            {
                FlushAll();
                if (Redacting && owner.Endpoint == EndpointKind.CreateModelResponse && RedactTexts(json))
                {
                    Write(name, json);
                }
                else
                {
                    _output.Write(evt);
                }
                return;
            }
            // Another slot's held text goes out before this event.
            foreach (var (key, slot) in _slots)
            {
                if (!deltas.Any(d => d.Key == key))
                {
                    Flush(slot);
                }
            }
            if (!Redacting)
            {
                foreach (var d in deltas)
                {
                    _text.Append(d.Text);
                }
                _output.Write(evt);
                return;
            }
            var changed = false;
            foreach (var d in deltas)
            {
                _text.Append(d.Text);
                if (!_slots.TryGetValue(d.Key, out var slot))
                {
                    _slots[d.Key] = slot = new Slot(owner.Detectors);
                }
                var text = slot.Push(d.Text);
                if (d.Finishing)
                {
                    text += slot.Flush();
                }
                else
                {
                    var template = (JsonObject)json.DeepClone();
                    slot.Template = (name, template, d.SetText);
                }
                if (text != d.Text)
                {
                    d.SetText(json, text);
                    changed = true;
                }
            }
            if (changed)
            {
                Write(name, json);
            }
            else
            {
                _output.Write(evt);
            }
        }

        private void FlushAll()
        {
            foreach (var slot in _slots.Values)
            {
                Flush(slot);
            }
        }

        private void Flush(Slot slot)
        {
            if (!slot.Holding || slot.Template is not { } template)
            {
                return;
            }
            var text = slot.Flush();
            if (text.Length == 0)
            {
                return;
            }
            var json = (JsonObject)template.Data.DeepClone();
            template.SetText(json, text);
            Write(template.Event, json);
        }

        private void Write(string? name, JsonObject json)
        {
            var text = (name is null ? "" : "event: " + name + "\n") + "data: " + HookResponses.SerializeToString(json) + "\n\n";
            _output.Write(Encoding.UTF8.GetBytes(text));
        }

        private sealed record Delta(string Key, string Text, bool Finishing, Action<JsonObject, string> SetText);

        /// <summary>The text deltas an event carries, each with the slot it belongs to and how to write it back.</summary>
        private List<Delta> Deltas(string? name, JsonObject json)
        {
            var list = new List<Delta>();
            switch (owner.Endpoint)
            {
                case EndpointKind.ChatComplete:
                case EndpointKind.Complete:
                    if (json["choices"] is JsonArray choices)
                    {
                        for (var i = 0; i < choices.Count; i++)
                        {
                            if (choices[i] is not JsonObject choice)
                            {
                                continue;
                            }
                            var position = i;
                            var index = choice["index"]?.ToString() ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                            var finishing = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
                            if (owner.Endpoint == EndpointKind.ChatComplete)
                            {
                                if (choice["delta"] is JsonObject delta && delta["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String)
                                {
                                    list.Add(new Delta("c" + index, c.GetValue<string>(), finishing,
                                        (j, t) => ((JsonObject)((JsonObject)((JsonArray)j["choices"]!)[position]!)["delta"]!)["content"] = t));
                                }
                            }
                            else if (choice["text"] is JsonValue t0 && t0.GetValueKind() == JsonValueKind.String)
                            {
                                list.Add(new Delta("c" + index, t0.GetValue<string>(), finishing,
                                    (j, t) => ((JsonObject)((JsonArray)j["choices"]!)[position]!)["text"] = t));
                            }
                        }
                    }
                    break;
                case EndpointKind.Messages:
                    if ((name ?? json["type"]?.ToString()) == "content_block_delta" && json["delta"] is JsonObject md
                        && md["type"]?.ToString() == "text_delta" && md["text"] is JsonValue mt && mt.GetValueKind() == JsonValueKind.String)
                    {
                        list.Add(new Delta("b" + json["index"], mt.GetValue<string>(), false, (j, t) => ((JsonObject)j["delta"]!)["text"] = t));
                    }
                    break;
                case EndpointKind.CreateModelResponse:
                    if ((json["type"]?.ToString() ?? name) == "response.output_text.delta" && json["delta"] is JsonValue rd
                        && rd.GetValueKind() == JsonValueKind.String)
                    {
                        list.Add(new Delta($"r{json["item_id"]}/{json["output_index"]}/{json["content_index"]}", rd.GetValue<string>(), false,
                            (j, t) => j["delta"] = t));
                    }
                    break;
            }
            return list;
        }

        /// <summary>Redacts every <c>text</c> string of an event that repeats the answer's text; true when one changed.</summary>
        private bool RedactTexts(JsonNode? node)
        {
            var changed = false;
            switch (node)
            {
                case JsonObject obj:
                    foreach (var key in obj.Select(p => p.Key).ToList())
                    {
                        if (key == "text" && obj[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                        {
                            var original = v.GetValue<string>();
                            var redacted = original;
                            foreach (var d in owner.Detectors)
                            {
                                redacted = d.Redact(redacted);
                            }
                            if (redacted != original)
                            {
                                obj[key] = redacted;
                                changed = true;
                            }
                        }
                        else
                        {
                            changed |= RedactTexts(obj[key]);
                        }
                    }
                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        changed |= RedactTexts(item);
                    }
                    break;
            }
            return changed;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
