using System.Globalization;
using System.Text;

namespace Switchyard.Simulators;

/// <summary><c>POST …/audio/transcriptions</c> and <c>…/audio/translations</c>: text naming the uploaded file and its size.</summary>
internal static class TranscriptionsEndpoint
{
    public static SimReply Transcribe(SimRequest request) => Handle(request, "transcribe", "transcription");

    public static SimReply Translate(SimRequest request) => Handle(request, "translate", "translation");

    private static SimReply Handle(SimRequest request, string task, string noun)
    {
        var form = request.Form;
        if (form is null)
        {
            return OpenAiErrors.InvalidRequest("Invalid Content-Type header: expected multipart/form-data with a 'file' field.");
        }

        var file = form.Files.GetFile("file");
        if (file is null)
        {
            return OpenAiErrors.MissingParameter("file");
        }

        if (string.IsNullOrEmpty(form["model"].ToString()))
        {
            return OpenAiErrors.MissingModel();
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"{noun} of {file.FileName} ({file.Length} bytes)");
        var format = form["response_format"].ToString();
        var seconds = Math.Max(1, file.Length / 16_000);
        return format switch
        {
            "" or "json" => SimReply.Json(JsonOut.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteEndObject();
            })),
            "text" => SimReply.Bytes("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text)),
            "srt" => SimReply.Bytes("text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"1\n00:00:00,000 --> 00:00:0{Math.Min(seconds, 9)},000\n{text}\n")),
            "vtt" => SimReply.Bytes("text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"WEBVTT\n\n00:00:00.000 --> 00:00:0{Math.Min(seconds, 9)}.000\n{text}\n")),
            "verbose_json" => SimReply.Json(JsonOut.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("task", task);
                w.WriteString("language", "english");
                w.WriteNumber("duration", seconds);
                w.WriteString("text", text);
                w.WriteStartArray("segments");
                w.WriteStartObject();
                w.WriteNumber("id", 0);
                w.WriteNumber("start", 0.0);
                w.WriteNumber("end", seconds);
                w.WriteString("text", text);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            })),
            _ => OpenAiErrors.InvalidRequest($"Invalid value: '{format}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.", "response_format", "invalid_value"),
        };
    }
}
