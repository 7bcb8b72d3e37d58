import { describe, expect, it } from '@jest/globals';
import { fakeToolContext } from '../testing/fake-tool-context.js';
import { SipReferTransfer } from './sip-refer-transfer.js';

function strategy(targetUri: string | undefined): SipReferTransfer {
  return new SipReferTransfer({ humanAgentNumber: undefined, targetUri, timeoutMs: 1000 });
}

describe('SipReferTransfer target', () => {
  it('refers to the environment target when the profile has none', async () => {
    const context = fakeToolContext();
    context.call.endsWithinWait = true;
    await strategy('tel:+14155550100').transfer(context);
    expect(context.call.refers).toEqual(['tel:+14155550100']);
  });

  it("prefers the profile's SIP URI, then its number", async () => {
    const bySip = fakeToolContext({ transfer: { sipUri: 'sip:desk@pbx.example.com', humanAgentNumber: '+14155550111' } });
    bySip.call.endsWithinWait = true;
    await strategy('tel:+14155550100').transfer(bySip);
    expect(bySip.call.refers).toEqual(['sip:desk@pbx.example.com']);

    const byNumber = fakeToolContext({ transfer: { humanAgentNumber: '+14155550111' } });
    byNumber.call.endsWithinWait = true;
    await strategy(undefined).transfer(byNumber);
    expect(byNumber.call.refers).toEqual(['tel:+14155550111']);
  });

  it('tells the model transfers are unavailable when nothing is configured', async () => {
    await expect(strategy(undefined).transfer(fakeToolContext())).rejects.toMatchObject({ code: 'transfer_unavailable' });
  });
});
