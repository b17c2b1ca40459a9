/*
 * The greeter of functions.ts as an AWS Lambda behind the dispatcher's Lambda endpoint
 * (handler: index.handler once bundled; `npm run build` writes dist/official-sdk-js-functions/).
 */
import { statefunLambdaHandler } from '../../runtime-lambda/adapters/official-js/statefunLambdaHandler';
import { statefun } from './functions';

export const handler = statefunLambdaHandler(statefun);
