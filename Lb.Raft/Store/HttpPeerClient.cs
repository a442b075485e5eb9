using System.Net.Http.Headers;
using System.Net.Http.Json;
using Lb.Core.Store;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;

namespace Lb.Raft.Store;

/// <summary>
/// Reaches other members' admin APIs: forwards a follower's write to the leader (<c>POST /api/cluster/propose</c>,
/// the encoded command in base64 inside a small JSON body) and tells a removed member to stop (<c>POST /api/node/removed</c>), with the
/// admin token when one is configured. Members' admin addresses come from their Raft metadata.
/// </summary>
internal sealed class HttpPeerClient(HttpClient http, string? adminToken) : IPeerClient
{
    public const string ProposePath = "/api/cluster/propose";
    public const string RemovedPath = "/api/node/removed";

    public async Task<ForwardedWrite> ForwardAsync(LeaderInfo leader, PutCommand command, CancellationToken cancellationToken)
    {
        using var request = Post(leader.AdminUrl!, ProposePath,
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ProposeRequest(Convert.ToBase64String(command.Encode())), RaftJsonContext.Default.ProposeRequest));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
        {
            return new ForwardedWrite(StoreWriteStatus.Unavailable, 0,
                Message: $"the leader refused the forwarded write ({(int)response.StatusCode}): give every node the same adminToken");
        }
        if (!response.IsSuccessStatusCode)
        {
            // A node that does not run Raft (any more), or a proxy in between: treat as "not the leader" and look again.
            return new ForwardedWrite(StoreWriteStatus.NotLeader, 0, Message: $"the leader's admin API answered {(int)response.StatusCode}");
        }
        var reply = await response.Content.ReadFromJsonAsync(RaftJsonContext.Default.ForwardReply, cancellationToken).ConfigureAwait(false)
            ?? throw new HttpRequestException("the leader sent an empty answer to a forwarded write");
        return reply.ToWrite();
    }

    public async Task NotifyRemovedAsync(string adminUrl, CancellationToken cancellationToken)
    {
        using var request = Post(adminUrl, RemovedPath, "{}"u8.ToArray());
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    private HttpRequestMessage Post(string baseUrl, string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl.TrimEnd('/') + path)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (!string.IsNullOrEmpty(adminToken))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        }
        return request;
    }
}
