using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using Lb.Raft.Node;
using Lb.Raft.Transport;
using Lb.TestSupport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Time.Testing;

namespace Lb.Raft.Tests;

/// <summary>
/// Two followers whose election timers fire together each grant the other's pre-vote; without a rule both campaign
/// for the same term and split the vote. Lb's transport settles it: a node that granted the pre-vote of a member
/// ranking before it (by Raft address) does not campaign for a moment. These tests speak DotNext's pre-vote bytes over
/// real loopback connections made by Lb's connection factories.
/// </summary>
public sealed class PreVoteTieBreakTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Granting_the_pre_vote_of_a_higher_ranked_member_makes_this_node_stand_aside()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.1:7000", serverTieBreak: local);

        await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: true));

        Assert.True(local.IsStandingAside);
    }

    [Fact]
    public async Task A_higher_ranked_members_pre_vote_waiting_for_its_answer_holds_this_node_back_until_it_is_refused()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.1:7000", serverTieBreak: local);

        await link.Client.Transport.Output.WriteAsync(PreVoteRequest(), Ct);
        await link.ReadRequestAsync(PreVoteWatch.RequestLength);
        Assert.True(local.IsStandingAside); // a busy node's own pre-vote may come back before it answers this one
        await link.AnswerAsync(PreVoteAnswer(granted: false));

        Assert.False(local.IsStandingAside);
    }

    [Fact]
    public async Task Granting_the_pre_vote_of_a_lower_ranked_member_changes_nothing()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.3:7000", serverTieBreak: local);

        await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: true));

        Assert.False(local.IsStandingAside);
    }

    [Fact]
    public async Task Refusing_a_pre_vote_or_granting_a_vote_changes_nothing()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.1:7000", serverTieBreak: local);

        await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: false));
        await link.ExchangeAsync(PreVoteRequest(type: 0x01), PreVoteAnswer(granted: true)); // a vote, not a pre-vote

        Assert.False(local.IsStandingAside);
    }

    [Fact]
    public async Task A_grant_after_other_traffic_on_the_same_connection_is_recognised()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.1:7000", serverTieBreak: local);
        var heartbeat = new byte[120];
        heartbeat[0] = 0x04;
        heartbeat[67] = 0x07; // a pre-vote's type byte inside another request does not count

        await link.ExchangeAsync(heartbeat, PreVoteAnswer(granted: true));
        Assert.False(local.IsStandingAside);
        await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: true));

        Assert.True(local.IsStandingAside);
    }

    [Fact]
    public async Task A_node_standing_aside_does_not_send_its_own_pre_vote()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        local.Answering("10.0.0.1:7000", granted: true);
        await using var link = await Link.OpenAsync(from: "10.0.0.2:7000", clientTieBreak: local);

        await Assert.ThrowsAsync<IOException>(async () => await link.Client.Transport.Output.WriteAsync(PreVoteRequest(), Ct));
        await link.ExchangeAsync(PreVoteRequest(type: 0x01), PreVoteAnswer(granted: true)); // votes still go out
    }

    [Fact]
    public async Task A_grant_that_arrives_while_this_node_stands_aside_reads_as_a_refusal()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        await using var link = await Link.OpenAsync(from: "10.0.0.2:7000", clientTieBreak: local);

        await link.Client.Transport.Output.WriteAsync(PreVoteRequest(), Ct);
        await link.ReadRequestAsync(PreVoteWatch.RequestLength);
        local.Answering("10.0.0.1:7000", granted: true); // the crossing pre-vote of a higher-ranked member, granted meanwhile
        var answer = await link.AnswerAsync(PreVoteAnswer(granted: true));

        Assert.Equal(PreVoteWatch.Refused, answer[^1]);
        Assert.Equal(PreVoteAnswer(granted: true)[..8], answer[..8]); // the term is untouched
    }

    [Fact]
    public async Task A_grant_stays_a_grant_when_this_node_is_not_standing_aside()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        local.Answering("10.0.0.3:7000", granted: true); // ranks after this node: no reason to step aside
        await using var link = await Link.OpenAsync(from: "10.0.0.2:7000", clientTieBreak: local);

        var answer = await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: true));

        Assert.Equal(PreVoteWatch.Granted, answer[^1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_real_election_after_the_leader_stops_is_seen_by_the_transport(bool raftTls)
    {
        // DotNext's bytes, not ours: with the leader gone, the new leader's pre-vote can only pass with the other
        // survivor's grant, so both sides of that exchange must have been recognised on Lb's transport, plain or TLS.
        using var pki = raftTls ? new TestPki("lb-test-cluster-ca") : null;
        await using var cluster = new TestCluster();
        var leader = await cluster.FormAsync(["node-1", "node-2", "node-3"],
            pki is null ? null : id => pki.Issue(id) is var files ? new RaftTlsFiles(files.Certificate, files.Key, files.Ca) : null);
        Assert.True((await leader.Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, Ct)).Succeeded);
        foreach (var node in cluster.Nodes)
        {
            await TestCluster.EventuallyAsync(() => node.Store.Current.Version == 1, $"{node.Id} applied version 1", TimeSpan.FromSeconds(15));
        }
        var survivors = cluster.Nodes.Where(n => n != leader).Select(n => n.Node).ToList();

        await cluster.StopAsync(leader.Id);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));

        Assert.True(survivors.Sum(n => n.PreVotes!.RequestsSeen) >= 1, "a pre-vote request was recognised");
        Assert.True(survivors.Sum(n => n.PreVotes!.GrantsSeen) >= 1, "a granted pre-vote was recognised");
    }

    [Fact]
    public async Task A_node_whose_own_pre_vote_passed_refuses_the_pre_votes_of_others_as_a_candidate_would()
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System);
        Assert.True(local.Requesting());
        Assert.True(local.Answered(granted: true)); // with itself, a majority of three
        await using var link = await Link.OpenAsync(from: "10.0.0.1:7000", serverTieBreak: local);

        var answer = await link.ExchangeAsync(PreVoteRequest(), PreVoteAnswer(granted: true));

        Assert.True(local.IsCampaigning);
        Assert.Equal(PreVoteWatch.Refused, answer[^1]);
        Assert.Equal(PreVoteAnswer(granted: true)[..8], answer[..8]);
        Assert.False(local.IsStandingAside); // a refusal: nothing to stand aside for
    }

    [Theory]
    [InlineData(3, 1, true)]
    [InlineData(5, 1, false)]
    [InlineData(5, 2, true)]
    public void A_pre_vote_passes_with_grants_from_a_majority_counting_the_node_itself(int members, int grants, bool passes)
    {
        var local = new PreVoteTieBreak("10.0.0.2:7000", Window, TimeProvider.System) { MemberCount = () => members };
        Assert.True(local.Requesting());

        for (var i = 0; i < grants; i++)
        {
            Assert.True(local.Answered(granted: true));
        }

        Assert.Equal(passes, local.IsCampaigning);
    }

    [Fact]
    public void The_window_ends()
    {
        var time = new FakeTimeProvider();
        var local = new PreVoteTieBreak("10.0.0.2:7000", TimeSpan.FromMilliseconds(125), time);

        local.Answering("10.0.0.1:7000", granted: true);
        Assert.True(local.Requesting() is false && local.IsStandingAside);
        time.Advance(TimeSpan.FromMilliseconds(126));

        Assert.False(local.IsStandingAside);
        Assert.True(local.Requesting());
    }

    [Theory]
    [InlineData("10.0.0.1:7000", "10.0.0.2:7000", true)]
    [InlineData("10.0.0.2:7000", "10.0.0.1:7000", false)]
    [InlineData("NODE-A:7000", "node-b:7000", true)]
    public void Both_sides_of_a_crossing_agree_on_who_ranks_first(string candidate, string other, bool first)
    {
        Assert.Equal(first, PreVoteTieBreak.RanksBefore(candidate, other));
        Assert.Equal(!first, PreVoteTieBreak.RanksBefore(other, candidate));
    }

    /// <summary>DotNext's pre-vote request: type byte, member id (32 bytes), term, last log index, last log term.</summary>
    private static byte[] PreVoteRequest(byte type = PreVoteWatch.PreVoteType)
    {
        var request = new byte[PreVoteWatch.RequestLength];
        request[0] = type;
        BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(33), 6);
        return request;
    }

    /// <summary>DotNext's answer: term, then 1 (granted) or 0 (refused by a follower).</summary>
    private static byte[] PreVoteAnswer(bool granted)
    {
        var answer = new byte[PreVoteWatch.ResponseLength];
        BinaryPrimitives.WriteInt64LittleEndian(answer, 5);
        answer[^1] = granted ? PreVoteWatch.Granted : PreVoteWatch.Refused;
        return answer;
    }

    /// <summary>One Raft connection between two nodes' factories: the client side opens it, the server side answers.</summary>
    private sealed class Link : IAsyncDisposable
    {
        private IConnectionListener _listener = null!;

        public ConnectionContext Client { get; private set; } = null!;

        public ConnectionContext Server { get; private set; } = null!;

        public static async Task<Link> OpenAsync(string from, PreVoteTieBreak? serverTieBreak = null, PreVoteTieBreak? clientTieBreak = null)
        {
            var failures = new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5));
            var link = new Link();
            link._listener = await new RaftListenerFactory(failures, TimeSpan.FromSeconds(30), serverTieBreak)
                .BindAsync(new IPEndPoint(IPAddress.Loopback, 0), Ct);
            link.Client = await new RaftConnectionFactory(failures, from, TimeSpan.FromSeconds(5), TimeProvider.System, clientTieBreak)
                .ConnectAsync(link._listener.EndPoint, Ct);
            link.Server = (await link._listener.AcceptAsync(Ct))!;
            return link;
        }

        /// <summary>One request and its answer; returns the answer as the client read it.</summary>
        public async Task<byte[]> ExchangeAsync(byte[] request, byte[] answer)
        {
            await Client.Transport.Output.WriteAsync(request, Ct);
            await ReadRequestAsync(request.Length);
            return await AnswerAsync(answer);
        }

        public async Task ReadRequestAsync(int length) => await ReadAsync(Server, length);

        public async Task<byte[]> AnswerAsync(byte[] answer)
        {
            await Server.Transport.Output.WriteAsync(answer, Ct);
            return await ReadAsync(Client, answer.Length);
        }

        private static async Task<byte[]> ReadAsync(ConnectionContext side, int length)
        {
            var result = await side.Transport.Input.ReadAtLeastAsync(length, Ct);
            var bytes = result.Buffer.Slice(0, length).ToArray();
            side.Transport.Input.AdvanceTo(result.Buffer.GetPosition(length));
            return bytes;
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
        }
    }
}
