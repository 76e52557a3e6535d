import { describe, expect, it } from 'vitest';
import { LabelValueError, ProviderCodeError } from './errors.js';
import { createLabel, formatLabel, parseLabel, validateLabel, validatePropagation } from './model.js';
import { isUnifiedSocialCreditCode, parseProviderCode, providerCode } from './model-provider.js';

const PRODUCER = '001191350100M000100Y431A001';

describe('provider codes (GB 45438 Annex E)', () => {
  it('checks the unified social credit code check character (GB 32100-2015)', () => {
    expect(isUnifiedSocialCreditCode('91350100M000100Y43')).toBe(true);
    expect(isUnifiedSocialCreditCode('91350100M000100Y44')).toBe(false);
    expect(isUnifiedSocialCreditCode('91350100M000100Y4')).toBe(false);
  });

  it('splits a 27-character code into its parts', () => {
    expect(parseProviderCode(PRODUCER)).toEqual({ code: PRODUCER, subject: '11', identifier: '91350100M000100Y43', serviceType: '1', modelCode: 'A001' });
    expect(providerCode({ identifier: '91350100M000100Y43', serviceType: '2', modelCode: 'B777' })).toBe('001191350100M000100Y432B777');
  });

  it.each([
    ['short', '0011913501'],
    ['prefix', '991191350100M000100Y431A001'],
    ['checksum', '001191350100M000100Y441A001'],
    ['service type', '001191350100M000100Y433A001'],
    ['model code', '001191350100M000100Y431A-01'],
  ])('rejects a bad %s with ProviderCodeError', (_, code) => {
    expect(() => parseProviderCode(code)).toThrow(ProviderCodeError);
  });
});

describe('the label', () => {
  it('fills propagation fields from the production ones on first write', () => {
    const label = createLabel({ producer: PRODUCER, produceId: 'img-1' });
    expect(label).toEqual({
      Label: '1',
      ContentProducer: PRODUCER,
      ProduceID: 'img-1',
      ReservedCode1: '',
      ContentPropagator: PRODUCER,
      PropagateID: 'img-1',
      ReservedCode2: '',
    });
  });

  it('formats and parses both the wrapped and the inner form', () => {
    const label = createLabel({ label: '2', producer: PRODUCER, produceId: 'x' });
    expect(formatLabel(label, 'wrapped').startsWith('{"AIGC":{"Label":"2"')).toBe(true);
    expect(parseLabel(formatLabel(label, 'wrapped'))).toEqual(label);
    expect(parseLabel(formatLabel(label))).toEqual(label);
  });

  it('reads incomplete labels leniently, as found in the wild', () => {
    expect(parseLabel('{"Label":1,"ContentProducer":"doubao"}')).toMatchObject({ Label: '1', ContentProducer: 'doubao', ProduceID: '' });
  });

  it.each(['not json', '[1,2]', '{"foo":"bar"}', '{"Label":{"x":1}}'])('rejects %s with LabelValueError', (text) => {
    expect(() => parseLabel(text)).toThrow(LabelValueError);
  });

  it('holds written labels to the standard', () => {
    const base = createLabel({ producer: PRODUCER, produceId: 'x' });
    expect(() => validateLabel({ ...base, Label: '4' })).toThrow(/Label/);
    expect(() => validateLabel({ ...base, ProduceID: '' })).toThrow(/ProduceID/);
    expect(() => validateLabel({ ...base, ProduceID: '生成' })).toThrow(/printable ASCII/);
    expect(() => validateLabel({ ...base, ContentPropagator: 'doubao' })).toThrow(ProviderCodeError);
  });

  it('checks the service type of each code against its role', () => {
    const platform = '001191110108MA01KP2T5U2P001';
    const generator2 = '001191110108MA01KP2T5U1P001';
    // A producer code must name a generation service, a platform's a propagation service.
    expect(() => createLabel({ producer: platform, produceId: 'x' })).toThrow(/service type "2".*ContentProducer/);
    expect(() => createLabel({ producer: PRODUCER, produceId: 'x', propagator: generator2 })).toThrow(ProviderCodeError);
    expect(createLabel({ producer: PRODUCER, produceId: 'x', propagator: platform }).ContentPropagator).toBe(platform);
    // The producer distributing its own content keeps its generation code.
    expect(createLabel({ producer: PRODUCER, produceId: 'x' }).ContentPropagator).toBe(PRODUCER);
    expect(() => validatePropagation(generator2, 'p-1', PRODUCER)).toThrow(/service type "1".*ContentPropagator/);
    expect(() => validatePropagation(PRODUCER, 'p-1', PRODUCER)).not.toThrow();
    expect(() => validatePropagation(platform, 'p-1', PRODUCER)).not.toThrow();
  });
});
