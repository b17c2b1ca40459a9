import { parseFlinkDuration } from '../../../runtime-lambda/module/flinkDuration';

describe('Function: parseFlinkDuration', () => {
  it.each([
    ['1 min', 60_000],
    ['2m', 120_000],
    ['1minutes', 60_000],
    ['15min', 900_000],
    ['1day', 86_400_000],
    ['2 d', 172_800_000],
    ['1 h', 3_600_000],
    ['3 HOURS', 10_800_000],
    ['10 sec', 10_000],
    ['10second', 10_000],
    ['20s', 20_000],
    ['250ms', 250],
    ['5 millis', 5],
    ['1500', 1500],
    [' 7 s ', 7000],
    ['1500µs', 2],
    ['1 micro', 1],
    ['1000000ns', 1],
    ['0s', 0],
    [60_000, 60_000],
  ])('reads %p as %p ms, as Flink TimeUtils does (sub-ms rounded up)', (text, ms) => {
    expect(parseFlinkDuration(text)).toBe(ms);
  });

  it.each([['soon'], [''], ['1.5 min'], ['-5s'], ['1 fortnight'], ['min'], ['1 m s'], [-1], [1.5], [null], [['1s']], ['99999999999999999999 d']])(
    'refuses %p',
    (value) => {
      expect(parseFlinkDuration(value)).toBeUndefined();
    },
  );
});
