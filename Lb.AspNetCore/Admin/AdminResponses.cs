using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Lb.Core.Admin;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>Writes admin API responses: JSON followed by a newline, as the reference does.</summary>
internal static class AdminResponses
{
    public static async Task WriteJsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
    }

    public static async Task WriteRawJsonAsync(HttpContext context, int status, byte[] json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
        await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
    }

    public static Task ErrorAsync(HttpContext context, int status, string message, string? code = null, IReadOnlyList<ApiFieldError>? errors = null, string? leaderAddress = null) =>
        WriteJsonAsync(context, status, new ApiError { Message = message, Code = code, Errors = errors is { Count: > 0 } ? errors : null, LeaderAddress = leaderAddress }, AdminJsonContext.Relaxed.ApiError);

    /// <summary>Renders a contributed handler's answer.</summary>
    public static async Task WriteResultAsync(HttpContext context, AdminResult result)
    {
        if (result.Headers is not null)
        {
            foreach (var (name, value) in result.Headers)
            {
                context.Response.Headers[name] = value;
            }
        }
        if (result.Error is { } error)
        {
            var fields = error.Errors?.Select(e => new ApiFieldError(e.Field, e.Message, e.Code, e.Hint)).ToList();
            await ErrorAsync(context, result.StatusCode, error.Message, error.Code, fields, error.LeaderAddress);
        }
        else if (result.Json.Length > 0)
        {
            context.Response.StatusCode = result.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(result.Json, context.RequestAborted);
            await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
        }
        else
        {
            context.Response.StatusCode = result.StatusCode;
        }
    }

    public static Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Response.WriteAsync(text + "\n", context.RequestAborted);
    }
}
